"""Generic file download: resume (HTTP Range), md5 check, progress, extract.

Authors
 * speechbrain-iusp developers 2026
"""

import hashlib
import http.client
import logging
import os
import tarfile
import urllib.error
import urllib.request
import zipfile

logger = logging.getLogger(__name__)


class ChecksumError(ValueError):
    """A downloaded file does not have the expected md5 checksum."""


def md5sum(path, chunk_size=1 << 20):
    """md5 hex digest of a file.

    Arguments
    ---------
    path : str
        File to hash.
    chunk_size : int
        Bytes read at a time.

    Returns
    -------
    str

    Example
    -------
    >>> import os
    >>> p = os.path.join(getfixture("tmpdir"), "f.txt")
    >>> _ = open(p, "w").write("abc")
    >>> md5sum(p)
    '900150983cd24fb0d6963f7d28e17f72'
    """
    digest = hashlib.md5()
    with open(path, "rb") as fin:
        for block in iter(lambda: fin.read(chunk_size), b""):
            digest.update(block)
    return digest.hexdigest()


def download_file(
    url,
    dest,
    md5=None,
    size=None,
    resume=True,
    timeout=30,
    chunk_size=1 << 16,
    progress=True,
):
    """Download ``url`` to ``dest``, resuming a partial ``dest + '.part'``.

    An existing ``dest`` with the right checksum is kept as is. A partial
    file is continued with an HTTP ``Range`` request when the server answers
    206; otherwise the download restarts. The finished file is checked
    against ``size`` and ``md5`` (when given) before it is renamed to
    ``dest``; on a mismatch the partial file is removed and
    :class:`ChecksumError` is raised.

    Arguments
    ---------
    url : str
        Source URL.
    dest : str
        Destination path.
    md5 : str or None
        Expected md5 hex digest (None: not checked, a warning is logged).
    size : int or None
        Expected size in bytes.
    resume : bool
        Continue a partial download when possible.
    timeout : float
        Socket timeout in seconds.
    chunk_size : int
        Bytes read at a time.
    progress : bool
        Show a tqdm progress bar.

    Returns
    -------
    str
        ``dest``.
    """
    if os.path.isfile(dest):
        if md5 is None or md5sum(dest) == md5:
            logger.info("%s already downloaded, skipping.", dest)
            return dest
        logger.warning("%s has a wrong checksum, downloading again.", dest)
        os.remove(dest)
    os.makedirs(os.path.dirname(os.path.abspath(dest)), exist_ok=True)
    part = dest + ".part"
    offset = os.path.getsize(part) if (resume and os.path.isfile(part)) else 0
    request = urllib.request.Request(url)
    if offset:
        request.add_header("Range", f"bytes={offset}-")
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as err:
        if err.code == 416 and offset:  # nothing left to fetch
            response = None
        else:
            raise
    total = None
    if response is not None:
        with response:
            if offset and response.status != 206:
                offset = 0  # server ignored Range: start again
            length = response.headers.get("Content-Length")
            total = offset + int(length) if length is not None else size
            mode = "ab" if offset else "wb"
            bar = _progress(total, offset, os.path.basename(dest), progress)
            try:
                with open(part, mode) as fout:
                    while True:
                        block = response.read(chunk_size)
                        if not block:
                            break
                        fout.write(block)
                        bar.update(len(block))
            except (http.client.HTTPException, OSError) as err:
                raise OSError(
                    f"Download of {url} was interrupted ({err!r}) after "
                    f"{os.path.getsize(part)} bytes; run again to resume "
                    f"from {part}."
                ) from err
            finally:
                bar.close()
    got = os.path.getsize(part)
    if response is not None and total is not None and got < total:
        raise OSError(
            f"Download of {url} ended at {got} of {total} bytes (the server "
            f"announced {total}); run again to resume from {part}."
        )
    if size is not None and got != size:
        if got < size:
            raise OSError(
                f"Download of {url} stopped at {got} of {size} bytes; run "
                f"again to resume from {part}."
            )
        os.remove(part)
        raise ChecksumError(
            f"{dest}: expected {size} bytes, got {got}; the partial file "
            "was removed."
        )
    if md5 is None:
        logger.warning("No md5 checksum known for %s; not verified.", dest)
    else:
        digest = md5sum(part)
        if digest != md5:
            os.remove(part)
            raise ChecksumError(
                f"{dest}: md5 {digest} does not match the expected {md5}; "
                "the download was removed, run again to retry."
            )
    os.replace(part, dest)
    return dest


def _progress(total, initial, name, enabled):
    """A tqdm bar, or a no-op stand-in when disabled."""
    from tqdm import tqdm

    return tqdm(
        total=total,
        initial=initial,
        unit="B",
        unit_scale=True,
        desc=name,
        disable=not enabled,
    )


def extract_archive(path, dest):
    """Extract a ``.tar.gz``/``.tgz``/``.tar``/``.zip`` archive safely.

    Members that would land outside ``dest`` (absolute paths, ``..``,
    links) are refused.

    Arguments
    ---------
    path : str
        The archive.
    dest : str
        Folder to extract into.

    Returns
    -------
    list of str
        Member names extracted.

    Example
    -------
    >>> import io, os, tarfile
    >>> d = str(getfixture("tmpdir"))
    >>> arc = os.path.join(d, "a.tar.gz")
    >>> with tarfile.open(arc, "w:gz") as tar:
    ...     info = tarfile.TarInfo("x/hello.txt")
    ...     info.size = 2
    ...     tar.addfile(info, io.BytesIO(b"hi"))
    >>> extract_archive(arc, os.path.join(d, "out"))
    ['x/hello.txt']
    >>> open(os.path.join(d, "out", "x", "hello.txt")).read()
    'hi'
    """
    root = os.path.realpath(dest)
    os.makedirs(root, exist_ok=True)

    def _safe(name):
        target = os.path.realpath(os.path.join(root, name))
        if os.path.commonpath([root, target]) != root:
            raise ValueError(f"Unsafe path in archive {path}: {name}")

    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as arc:
            names = arc.namelist()
            for name in names:
                _safe(name)
            arc.extractall(root)
        return names
    with tarfile.open(path) as arc:
        members = arc.getmembers()
        for member in members:
            _safe(member.name)
            if member.issym() or member.islnk():
                raise ValueError(f"Link in archive {path}: {member.name}")
        arc.extractall(root, filter="data")
    return [m.name for m in members if m.isfile()]


def fetch(entries, folder, extract=True, progress=True, timeout=30):
    """Download and (optionally) extract a list of files.

    Arguments
    ---------
    entries : list of dict
        Each with ``name``, ``url`` and optionally ``md5``, ``size`` and
        ``extract`` (bool).
    folder : str
        Destination folder.
    extract : bool
        Extract entries marked ``extract`` (a ``.done`` marker avoids doing
        it twice).
    progress : bool
        Show progress bars.
    timeout : float
        Socket timeout in seconds.

    Returns
    -------
    list of str
        Paths of the downloaded files.
    """
    paths = []
    for entry in entries:
        dest = os.path.join(folder, entry["name"])
        download_file(
            entry["url"],
            dest,
            md5=entry.get("md5"),
            size=entry.get("size"),
            progress=progress,
            timeout=timeout,
        )
        paths.append(dest)
        marker = dest + ".extracted"
        if extract and entry.get("extract") and not os.path.exists(marker):
            logger.info("Extracting %s", dest)
            try:
                extract_archive(dest, folder)
            except (tarfile.TarError, zipfile.BadZipFile, EOFError) as err:
                os.remove(dest)
                raise OSError(
                    f"{dest} is not a complete archive ({err}); it was "
                    "removed: run again to download it anew."
                ) from err
            with open(marker, "w") as fout:
                fout.write("done\n")
    return paths
