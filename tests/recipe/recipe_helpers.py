"""Helpers shared by the recipe tests.

Authors
 * speechbrain-iusp developers 2026
"""

from pathlib import Path


def processes_mentioning(text):
    """PIDs of the processes whose command line contains ``text`` (Linux)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if text.encode() in cmdline:
            found.append(int(proc.name))
    return found
