"""Tests of the generic downloader against a local HTTP server.

Authors
 * speechbrain-iusp developers 2026
"""

import hashlib
import io
import json
import os
import tarfile
import threading
import urllib.error
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from speechbrain_iusp.sonyc.download import (
    ChecksumError,
    download_file,
    extract_archive,
    fetch,
)


class _Handler(BaseHTTPRequestHandler):
    """Serves ``server.files``; honours Range; can drop a response."""

    def log_message(self, *args):  # keep pytest output clean
        pass

    def do_GET(self):
        srv = self.server
        srv.requests.append((self.path, self.headers.get("Range")))
        data = srv.files.get(self.path)
        if data is None:
            self.send_error(404)
            return
        start = 0
        rng = self.headers.get("Range")
        if rng and srv.honour_range:
            start = int(rng.split("=")[1].split("-")[0])
            if start >= len(data):
                self.send_error(416)
                return
            self.send_response(206)
            self.send_header(
                "Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}"
            )
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        cut = srv.cut.pop(self.path, None)
        if cut is not None:  # simulate a dropped connection
            self.wfile.write(body[:cut])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)


@pytest.fixture
def server():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    srv.files, srv.cut, srv.requests, srv.honour_range = {}, {}, [], True
    srv.daemon_threads = True
    thread = threading.Thread(
        target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    # Safety net: the server stops by itself even if a test hangs.
    timer = threading.Timer(60, srv.shutdown)
    timer.daemon = True
    timer.start()
    srv.url = f"http://127.0.0.1:{srv.server_address[1]}"
    yield srv
    timer.cancel()
    srv.shutdown()
    srv.server_close()
    thread.join(timeout=5)


def _payload(n=300_000, seed=0):
    return np.random.default_rng(seed).bytes(n)


def _md5(data):
    return hashlib.md5(data).hexdigest()


def _archive():
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in (
            ("train/a.wav", b"RIFF" + _payload(5000)),
            ("annotations.csv", b"split\ntrain\n"),
        ):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_fetch_extract_and_skip(server, tmp_path):
    arc = _archive()
    server.files["/audio-dev.tar.gz"] = arc
    entries = [
        {
            "name": "audio-dev.tar.gz",
            "url": server.url + "/audio-dev.tar.gz",
            "md5": _md5(arc),
            "size": len(arc),
            "extract": True,
        }
    ]
    fetch(entries, str(tmp_path), progress=False)
    assert (tmp_path / "train" / "a.wav").read_bytes()[:4] == b"RIFF"
    assert (tmp_path / "annotations.csv").exists()
    assert (tmp_path / "audio-dev.tar.gz.extracted").exists()
    fetch(entries, str(tmp_path), progress=False)  # verified, not fetched
    assert len(server.requests) == 1


def test_interrupted_download_resumes(server, tmp_path):
    data = _payload()
    server.files["/big.bin"] = data
    server.cut["/big.bin"] = 100_000
    dest = str(tmp_path / "big.bin")
    with pytest.raises(OSError, match="resume"):
        download_file(
            server.url + "/big.bin",
            dest,
            md5=_md5(data),
            size=len(data),
            progress=False,
        )
    assert not os.path.exists(dest)
    assert os.path.getsize(dest + ".part") == 100_000
    download_file(
        server.url + "/big.bin",
        dest,
        md5=_md5(data),
        size=len(data),
        progress=False,
    )
    assert open(dest, "rb").read() == data
    assert server.requests[-1] == ("/big.bin", "bytes=100000-")
    assert not os.path.exists(dest + ".part")


def test_server_without_range_restarts(server, tmp_path):
    data = _payload(seed=1)
    server.files["/f.bin"] = data
    server.honour_range = False
    dest = str(tmp_path / "f.bin")
    with open(dest + ".part", "wb") as fout:
        fout.write(b"garbage that must be discarded")
    download_file(server.url + "/f.bin", dest, md5=_md5(data), progress=False)
    assert open(dest, "rb").read() == data


def test_checksum_mismatch(server, tmp_path):
    server.files["/f.bin"] = _payload(1000)
    dest = str(tmp_path / "f.bin")
    with pytest.raises(ChecksumError, match="does not match"):
        download_file(server.url + "/f.bin", dest, md5="0" * 32, progress=False)
    assert not os.path.exists(dest) and not os.path.exists(dest + ".part")


def test_existing_file_with_bad_checksum_is_replaced(server, tmp_path):
    data = _payload(2000, seed=3)
    server.files["/f.bin"] = data
    dest = tmp_path / "f.bin"
    dest.write_bytes(b"stale")
    download_file(
        server.url + "/f.bin", str(dest), md5=_md5(data), progress=False
    )
    assert dest.read_bytes() == data


def test_no_network(tmp_path):
    with pytest.raises(urllib.error.URLError):
        download_file(
            "http://127.0.0.1:9/x",
            str(tmp_path / "x"),
            progress=False,
            timeout=5,
        )


def test_unsafe_archive_refused(tmp_path):
    path = tmp_path / "evil.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        info = tarfile.TarInfo("../evil.txt")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    with pytest.raises(ValueError, match="Unsafe path"):
        extract_archive(str(path), str(tmp_path / "out"))
    assert not (tmp_path / "evil.txt").exists()


def test_short_transfer_without_known_size_is_resumed(server, tmp_path):
    # no md5 and no size in the table: the announced Content-Length is what
    # tells a cut transfer from a complete one
    data = _payload()
    server.files["/v1.bin"] = data
    server.cut["/v1.bin"] = len(data) // 2
    dest = tmp_path / "v1.bin"
    with pytest.raises(OSError, match="announced"):
        download_file(server.url + "/v1.bin", str(dest), progress=False)
    assert not dest.exists()  # never recorded as complete
    assert (tmp_path / "v1.bin.part").stat().st_size == len(data) // 2
    download_file(server.url + "/v1.bin", str(dest), progress=False)
    assert dest.read_bytes() == data
    assert server.requests[-1][1] == f"bytes={len(data) // 2}-"


def test_corrupt_archive_is_removed_and_downloaded_again(server, tmp_path):
    good = _archive()
    server.files["/a.tar.gz"] = good[: len(good) // 2]  # a broken upload
    entries = [
        {
            "name": "a.tar.gz",
            "url": server.url + "/a.tar.gz",
            "md5": None,
            "size": None,
            "extract": True,
        }
    ]
    with pytest.raises(OSError, match="not a complete archive"):
        fetch(entries, str(tmp_path), progress=False)
    assert not (tmp_path / "a.tar.gz").exists()
    assert not (tmp_path / "a.tar.gz.extracted").exists()
    server.files["/a.tar.gz"] = good
    fetch(entries, str(tmp_path), progress=False)
    assert (tmp_path / "train" / "a.wav").exists()


def test_v2_3_release_table_downloads_and_prepares(server, tmp_path):
    # the v2.3 table (names, archives, published md5s) served locally: the
    # contents are stand-ins, so their md5s replace the published ones
    from speechbrain_iusp.demo import generate_corpus
    from speechbrain_iusp.sonyc.prepare import prepare_sonyc_ust
    from speechbrain_iusp.sonyc.releases import release_files

    table = release_files("2.3")
    names = [entry["name"] for entry in table]
    assert names[:2] == ["annotations.csv", "dcase-ust-taxonomy.yaml"]
    assert names[2:] == [f"audio-{k}.tar.gz" for k in range(19)]
    assert table[0]["md5"] == "70b507b15bb4cfcce4870925302f276b"
    assert all(len(entry["md5"]) == 32 for entry in table)
    assert all(
        entry["url"].startswith("https://zenodo.org/record/3966543/")
        for entry in table
    )

    corpus = tmp_path / "corpus"
    generate_corpus(corpus, size="tiny", seed=3, workers=1)
    wavs = sorted(corpus.glob("*/*.wav"))
    local = []
    for k, entry in enumerate(table):
        if entry["extract"]:  # v2.3 archives unpack into one audio/ folder
            buf = io.BytesIO()
            with tarfile.open(fileobj=buf, mode="w:gz") as tar:
                for wav in wavs[k - 2 :: 19]:
                    tar.add(wav, arcname=f"audio/{wav.name}")
            data = buf.getvalue()
        else:
            data = (corpus / entry["name"]).read_bytes()
        server.files["/" + entry["name"]] = data
        local.append(
            dict(
                entry,
                url=server.url + "/" + entry["name"],
                md5=_md5(data),
                size=len(data),
            )
        )
    data_folder = tmp_path / "sonyc_v2.3"
    manifests = prepare_sonyc_ust(
        str(data_folder),
        str(tmp_path / "save"),
        download=True,
        version="2.3",
        download_files=local,
    )
    assert len(list((data_folder / "audio").glob("*.wav"))) == len(wavs)
    for split, path in manifests.items():
        with open(path) as fin:
            assert len(json.load(fin)) == 8, split
