"""Process settings that make CPU training faster.

Authors
 * speechbrain-iusp developers 2026
"""

import ctypes
import logging
import sys

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
