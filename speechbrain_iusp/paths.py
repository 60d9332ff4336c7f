"""Checks of the paths a command line is given, made before any work.

Authors
 * speechbrain-iusp developers 2026
"""

import os
from pathlib import Path


def check_output(path, option):
    """Creates the folder of an output file; a message when it cannot be.

    Arguments
    ---------
    path : str
        The output file.
    option : str
        The option that named it, for the message.

    Returns
    -------
    str or None
        None when the file can be written.

    Example
    -------
    >>> tmp = Path(getfixture("tmpdir"))
    >>> check_output(tmp / "new" / "out.csv", "--csv") is None
    True
    >>> (tmp / "new").is_dir()
    True
    >>> (tmp / "f").write_text("")
    0
    >>> check_output(tmp / "f" / "out.csv", "--csv")
    '--csv .../f/out.csv: .../f is a file, not a folder'
    """
    path = Path(path)
    if path.is_dir():
        return f"{option} {path}: is a folder; give a file name"
    blocker = next(
        (p for p in path.parents if p.exists() and not p.is_dir()), None
    )
    if blocker is not None:
        return f"{option} {path}: {blocker} is a file, not a folder"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        return f"{option} {path}: cannot create its folder ({err.strerror})"
    if not os.access(path.parent, os.W_OK) or (
        path.exists() and not os.access(path, os.W_OK)
    ):
        return f"{option} {path}: not writable"
    return None
