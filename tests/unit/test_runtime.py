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


def test_auto_precision_follows_native_bf16(monkeypatch):
    import torch

    from speechbrain_iusp.runtime import auto_precision

    for probe in ("_is_avx512_bf16_supported", "_is_amx_tile_supported"):
        monkeypatch.setattr(torch.cpu, probe, lambda: False, raising=False)
    assert auto_precision("cpu") == "fp32"
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: True)
    assert auto_precision("cpu") == "bf16"
    assert auto_precision("cuda:0") == "fp32"  # GPUs: ask for it


def test_precision_auto_is_resolved_and_the_command_line_wins(monkeypatch):
    import speechbrain as sb

    from speechbrain_iusp import runtime

    monkeypatch.setattr(runtime, "auto_precision", lambda device: "bf16")
    hparams = {"precision": "auto"}
    runtime.resolve_precision(hparams, sb.parse_arguments(["x.yaml"])[1])
    assert hparams["precision"] == "bf16"
    hparams = {"precision": "auto"}
    run_opts = sb.parse_arguments(["x.yaml", "--precision=fp32"])[1]
    runtime.resolve_precision(hparams, run_opts)
    assert hparams["precision"] == "fp32"
    hparams = {"precision": "fp32"}
    runtime.resolve_precision(hparams, {})
    assert hparams == {"precision": "fp32"}
    run_opts = sb.parse_arguments(["x.yaml", "--precision=bf16"])[1]
    runtime.resolve_precision(hparams, run_opts)
    assert hparams == {"precision": "bf16"}  # what the run will use


def test_distillation_brain_takes_precision_auto(monkeypatch):
    import torch

    from speechbrain_iusp import runtime
    from speechbrain_iusp.distill import DistillationBrain

    for want in ("bf16", "fp32"):
        monkeypatch.setattr(runtime, "auto_precision", lambda d, w=want: w)
        hparams = {"precision": "auto"}
        brain = DistillationBrain(
            modules={"model": torch.nn.Linear(2, 2)},
            hparams=hparams,
            run_opts={"device": "cpu"},
        )
        assert brain.precision == want
        assert hparams == {"precision": "auto"}  # the caller's dict is kept
