"""Tests of speechbrain_iusp.runtime: locks, child processes, allocator.

Authors
 * speechbrain-iusp developers 2026
"""

import logging
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from speechbrain_iusp.runtime import (
    FolderBusy,
    folder_lock,
    tune_cpu_allocator,
)

_HOLDER = textwrap.dedent(
    """
    import sys, time
    from speechbrain_iusp.runtime import folder_lock
    with folder_lock(sys.argv[1]):
        print("held", flush=True)
        time.sleep(float(sys.argv[2]))
    """
)


def _hold(folder, seconds):
    proc = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(folder), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_a_held_folder_is_refused_or_waited_for(tmp_path, caplog):
    holder = _hold(tmp_path, 1.5)
    try:
        with pytest.raises(FolderBusy, match="Another run is using"):
            with folder_lock(tmp_path):
                pass
        start = time.time()
        with caplog.at_level(logging.WARNING):
            with folder_lock(tmp_path, wait=True, what="teacher training"):
                waited = time.time() - start
        assert "teacher training holds" in caplog.text
        # acquired only once the holder let go (it held 1.5 s from start);
        # the holder may still be exiting, so poll() is not checked here
        assert waited > 0.5
        assert holder.wait(timeout=30) == 0
    finally:
        holder.wait()


def test_a_killed_holder_leaves_no_stale_lock(tmp_path):
    holder = _hold(tmp_path, 60)
    holder.kill()
    holder.wait()
    with folder_lock(tmp_path) as path:
        assert Path(path).name == ".lock"


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs Linux /proc")
def test_child_dies_with_its_parent(tmp_path):
    # a parent starts a long child with die_with_parent, then is killed
    parent = textwrap.dedent(
        """
        import subprocess, sys, time
        from speechbrain_iusp.runtime import die_with_parent
        child = subprocess.Popen(
            [sys.executable, "-c", "import time; time.sleep(60)"],
            preexec_fn=die_with_parent)
        print(child.pid, flush=True)
        time.sleep(60)
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", parent], stdout=subprocess.PIPE, text=True
    )
    child = int(proc.stdout.readline())
    proc.kill()
    proc.wait()
    deadline = time.time() + 10
    while Path(f"/proc/{child}").exists() and time.time() < deadline:
        state = Path(f"/proc/{child}/stat").read_text().split()[2]
        if state == "Z":  # exited, waiting to be reaped
            break
        time.sleep(0.1)
    alive = Path(f"/proc/{child}").exists() and (
        Path(f"/proc/{child}/stat").read_text().split()[2] != "Z"
    )
    assert not alive


def test_tune_cpu_allocator_on_linux():
    assert tune_cpu_allocator() is sys.platform.startswith("linux")


def test_run_opts_that_cannot_run_here_are_refused():
    import torch

    from speechbrain_iusp.runtime import check_run_opts

    check_run_opts({"device": "cpu", "precision": "bf16"})
    check_run_opts({"device": "cpu", "precision": "fp32"})
    with pytest.raises(ValueError, match="--eval_precision fp16 needs a CUDA"):
        check_run_opts({"device": "cpu", "eval_precision": "fp16"})
    with pytest.raises(ValueError, match="--precision half: choose one of"):
        check_run_opts({"device": "cpu", "precision": "half"})
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="--device cuda:0: no CUDA"):
            check_run_opts({"device": "cuda:0", "precision": "fp16"})
    else:  # pragma: no cover - on a GPU machine
        n = torch.cuda.device_count()
        check_run_opts({"device": "cuda:0", "precision": "fp16"})
        with pytest.raises(ValueError, match="CUDA device\\(s\\) are visible"):
            check_run_opts({"device": f"cuda:{n}"})
