"""Tests of the generic downloader against a local HTTP server.

Authors
 * speechbrain-iusp developers 2026
"""

import hashlib
import io
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
