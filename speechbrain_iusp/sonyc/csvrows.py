"""Strict CSV reading: every row must have as many fields as the header.

Authors
 * speechbrain-iusp developers 2026
"""

import csv


def read_csv_rows(path, what):
    """Reads a CSV file with a header; refuses a row of the wrong width.

    A row with an extra or a missing field would shift its values into the
    wrong columns (``csv.DictReader`` does so silently), so it is an error
    that names the file and line. Blank lines are skipped.

    Arguments
    ---------
    path : str
        The CSV file.
    what : str
        What the file is, for messages (e.g. ``"annotations"``).

    Returns
    -------
    header : list of str
        The column names.
    rows : list of (int, dict)
        ``(line number, column -> value)`` per row.

    Example
    -------
    >>> import os
    >>> p = os.path.join(getfixture("tmpdir"), "t.csv")
    >>> _ = open(p, "w").write("a,b\\n1,2\\n3,4,5\\n")
    >>> read_csv_rows(p, "test")
    Traceback (most recent call last):
    ...
    ValueError: ...t.csv, line 3: 3 fields, but the header has 2 (a,b...)...
    """
    try:
        fin = open(path, newline="")
    except OSError as err:
        raise FileNotFoundError(
            f"Cannot read {what} file '{path}': {err}"
        ) from err
    with fin:
        reader = csv.reader(fin)
        header = next(reader, None)
        if not header:
            raise ValueError(f"{path}: empty {what} file (no header line)")
        header = [name.strip() for name in header]
        rows = []
        for fields in reader:
            if not fields:
                continue
            if len(fields) != len(header):
                raise ValueError(
                    f"{path}, line {reader.line_num}: {len(fields)} fields, "
                    f"but the header has {len(header)} "
                    f"({','.join(header[:3])}...). Its values would land in "
                    "the wrong columns: fix the row (a comma inside a value "
                    "must be quoted)."
                )
            rows.append(
                (reader.line_num, dict(zip(header, fields, strict=True)))
            )
    return header, rows
