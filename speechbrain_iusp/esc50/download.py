"""Download of the ESC-50 release archive, and what to do without network.

Authors
 * speechbrain-iusp developers 2026
"""

import logging
import os
import urllib.error
from pathlib import Path

from speechbrain_iusp.esc50.meta import (
    AUDIO_DIR,
    META_FILE,
    check_audio,
    read_meta,
)
from speechbrain_iusp.sonyc.download import download_file, extract_archive

logger = logging.getLogger(__name__)

ESC50_URL = "https://github.com/karoldvl/ESC-50/archive/master.zip"
RELEASE_DIR = "ESC-50-master"
ARCHIVE = "ESC-50-master.zip"


def download_esc50(data_folder, url=ESC50_URL, md5=None, timeout=30):
    """Downloads and extracts the ESC-50 archive into ``data_folder``.

    The archive is kept as ``data_folder/ESC-50-master.zip`` (a partial
    download resumes) and checked against ``md5`` when one is given; the
    extracted ``ESC-50-master/`` is then checked as any ESC-50 folder
    (every row of ``meta/esc50.csv`` valid, every listed clip there).
    ``master.zip`` is a branch archive whose bytes GitHub may rebuild, so
    the default is the content check alone; pin ``md5`` for a mirror.

    Arguments
    ---------
    data_folder : str or Path
        Where the release goes (created if needed).
    url : str
        The archive (a zip holding ``ESC-50-master/``).
    md5 : str, optional
        Expected md5 of the archive.
    timeout : float
        Socket timeout in seconds.

    Returns
    -------
    Path
        The extracted release folder, ``data_folder/ESC-50-master``.

    Example
    -------
    >>> download_esc50(getfixture("tmpdir"), url="http://127.0.0.1:9/x.zip")
    Traceback (most recent call last):
    ...
    RuntimeError: Cannot download ESC-50 from http://127.0.0.1:9/x.zip ...
    """
    data_folder = Path(data_folder)
    data_folder.mkdir(parents=True, exist_ok=True)
    archive = data_folder / ARCHIVE
    logger.info("Downloading ESC-50 (about 600 MB) from %s", url)
    try:
        download_file(url, str(archive), md5=md5, timeout=timeout)
    except (urllib.error.URLError, OSError) as err:
        raise RuntimeError(
            f"Cannot download ESC-50 from {url} ({err}). Without network: "
            f"download the archive on a machine that has it, unzip it into "
            f"{data_folder} (giving {data_folder / RELEASE_DIR}/audio and "
            "meta/esc50.csv) and run again; or run without --data_folder "
            "for the built-in stand-in (synthetic, NOT ESC-50)."
        ) from err
    extract_archive(str(archive), str(data_folder))
    release = data_folder / RELEASE_DIR
    rows = read_meta(release / META_FILE)
    check_audio(rows, release / AUDIO_DIR, release / META_FILE)
    logger.info("ESC-50: %d clips in %s", len(rows), release)
    os.remove(archive)
    return release
