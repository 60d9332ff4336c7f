"""Process-level settings: a faster CPU allocator, child processes that die
with their parent, experiment-folder locks and atomic file writes.

Authors
 * speechbrain-iusp developers 2026
"""

import contextlib
import ctypes
import logging
import os
import signal
import sys
import uuid
from pathlib import Path

logger = logging.getLogger(__name__)

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_ONE_GIB = 1 << 30


def tune_cpu_allocator():
    """Keeps large tensors in glibc's heap instead of fresh mmaps.

    glibc serves every allocation above 32 MiB (and, by default, above a
    sliding threshold from 128 KiB) with its own ``mmap``, and returns it to
    the system when freed; each training step then page-faults its large
    activations in again. Raising the mmap and trim thresholds to 1 GiB
    keeps them in the heap. On this project's CPU a CRNN training step was
    about 1.2x faster (``benchmarks/RESULTS.md``); results are identical.
    Call it at the start of a process, before large tensors exist. No-op
    (returns False) outside glibc.

    Returns
    -------
    bool
        Whether the settings were applied.

    Example
    -------
    >>> tune_cpu_allocator() in (True, False)
    True
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        ok = libc.mallopt(_M_MMAP_THRESHOLD, _ONE_GIB) == 1
        ok = ok and libc.mallopt(_M_TRIM_THRESHOLD, _ONE_GIB) == 1
    except (OSError, AttributeError):  # not glibc
        return False
    if ok:
        logger.debug("glibc mmap and trim thresholds set to 1 GiB")
    return ok


_PR_SET_PDEATHSIG = 1


def die_with_parent():
    """Makes this process receive SIGTERM when its parent dies (Linux).

    Use it as ``preexec_fn`` of a child process (a teacher run started by a
    student run), so that killing the parent, even with SIGKILL, also stops
    the child instead of leaving it writing into a folder. No-op elsewhere.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


class FolderBusy(RuntimeError):
    """Another process holds the lock of an experiment folder."""


@contextlib.contextmanager
def folder_lock(folder, wait=False, what="run"):
    """Holds ``<folder>/.lock`` so that two runs never share a folder.

    The lock is an OS file lock (``filelock``): it is released when the
    holder exits, however it exits, so no stale lock survives a killed run.

    Arguments
    ---------
    folder : str or Path
        The experiment folder (created if needed).
    wait : bool
        Wait for the holder to finish (with a log line) instead of raising
        :class:`FolderBusy`.
    what : str
        What the lock guards, for messages.

    Yields
    ------
    Path
        The lock file.

    Example
    -------
    >>> tmp = getfixture("tmpdir")
    >>> with folder_lock(tmp):
    ...     with folder_lock(tmp):
    ...         pass
    Traceback (most recent call last):
    ...
    speechbrain_iusp.runtime.FolderBusy: Another run is using ...
    """
    from filelock import FileLock, Timeout

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / ".lock"
    lock = FileLock(str(path), is_singleton=False)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        if not wait:
            raise FolderBusy(
                f"Another {what} is using {folder} (it holds {path}). Wait "
                "for it to finish, or give this run another folder (e.g. "
                "--output_folder, --seed or --output_root)."
            ) from None
        logger.warning(
            "Another %s holds %s; waiting for it to finish.", what, path
        )
        lock.acquire()
    try:
        yield path
    finally:
        lock.release()


PRECISIONS = ("fp32", "fp16", "bf16")


def auto_precision(device="cpu"):
    """The training precision that ``precision: auto`` picks for a device.

    bf16 autocast on a CPU that computes bf16 natively (AVX-512 BF16 or
    AMX), where it measured faster than fp32 at a quality within the seed
    spread (``benchmarks/RESULTS.md``); fp32 on other CPUs, where bf16 is
    emulated and was slower, and on GPUs (pass ``--precision`` there).

    Arguments
    ---------
    device : str
        The run's device (``cpu``, ``cuda:0``, ...).

    Returns
    -------
    str
        ``"bf16"`` or ``"fp32"``.

    Example
    -------
    >>> auto_precision("cuda:0")
    'fp32'
    >>> auto_precision("cpu") in ("bf16", "fp32")
    True
    """
    import torch

    if not str(device).startswith("cpu"):
        return "fp32"
    for probe in ("_is_avx512_bf16_supported", "_is_amx_tile_supported"):
        check = getattr(torch.cpu, probe, None)
        if check is not None and check():
            return "bf16"
    return "fp32"


def resolve_precision(hparams, run_opts=None):
    """Leave in ``hparams["precision"]`` the precision the run will use.

    A ``--precision`` given in ``run_opts`` wins (SpeechBrain uses it) and
    is written there; otherwise ``auto`` becomes :func:`auto_precision` of
    the run's device, and the choice is logged. Other values are left alone.

    Arguments
    ---------
    hparams : dict
        The hparams (changed in place).
    run_opts : dict or speechbrain.core.RunOptions, optional
        The run options.

    Example
    -------
    >>> hparams = {"precision": "auto"}
    >>> resolve_precision(hparams, {"device": "cuda:0"})
    >>> hparams
    {'precision': 'fp32'}
    >>> hparams = {"precision": "auto"}
    >>> resolve_precision(hparams, {"device": "cpu", "precision": "fp32"})
    >>> hparams
    {'precision': 'fp32'}
    """
    import torch

    if hparams is None:
        return
    run_opts = run_opts if run_opts is not None else {}
    given = getattr(run_opts, "overridden_args", run_opts)
    if "precision" in given:
        hparams["precision"] = run_opts["precision"]
        return
    if hparams.get("precision") != "auto":
        return
    device = run_opts.get("device") or (
        "cuda:0" if torch.cuda.is_available() else "cpu"
    )
    hparams["precision"] = auto_precision(device)
    logger.info(
        "precision: auto -> %s on %s (--precision fp32 to override)",
        hparams["precision"],
        device,
    )


def check_run_opts(run_opts):
    """Refuse device and precision options that cannot run here, early.

    SpeechBrain finds out when the Brain is built, after the data are
    prepared and a teacher may have been trained; this checks the same
    options before any of that.

    Arguments
    ---------
    run_opts : dict
        SpeechBrain run options (``device``, ``precision``,
        ``eval_precision``).

    Raises
    ------
    ValueError
        Naming the option and the fix.

    Example
    -------
    >>> check_run_opts({"device": "cpu", "precision": "bf16"})
    >>> check_run_opts({"device": "cpu", "precision": "fp16"})
    Traceback (most recent call last):
    ...
    ValueError: --precision fp16 needs a CUDA device (--device cpu here); ...
    """
    import torch

    device = run_opts.get("device") or (
        "cuda:0" if torch.cuda.is_available() else "cpu"
    )
    for opt in ("precision", "eval_precision"):
        value = run_opts.get(opt)
        if value is not None and value not in PRECISIONS:
            raise ValueError(
                f"--{opt} {value}: choose one of {', '.join(PRECISIONS)}"
            )
        if value == "fp16" and not device.startswith("cuda"):
            raise ValueError(
                f"--{opt} fp16 needs a CUDA device (--device {device} here); "
                "on a CPU use --precision bf16 or fp32"
            )
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ValueError(
                f"--device {device}: no CUDA device is visible here "
                "(torch.cuda.is_available() is False); use --device cpu, or "
                "check CUDA_VISIBLE_DEVICES and the driver"
            )
        index = int(device.split(":")[1]) if ":" in device else 0
        if index >= torch.cuda.device_count():
            raise ValueError(
                f"--device {device}: only {torch.cuda.device_count()} CUDA "
                f"device(s) are visible (cuda:0 to "
                f"cuda:{torch.cuda.device_count() - 1})"
            )


def atomic_write_text(path, text):
    """Writes a small text file atomically (readers never see half of it).

    Arguments
    ---------
    path : str or Path
        The file.
    text : str
        Its new content.

    Example
    -------
    >>> path = Path(getfixture("tmpdir")) / "a.json"
    >>> atomic_write_text(path, "{}")
    >>> path.read_text()
    '{}'
    """
    tmp = Path(path).with_name(f".{Path(path).name}.{uuid.uuid4().hex}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
