"""Data preparation for SONYC-UST (DCASE 2019 Task 5, urban sound tagging).

Writes one SpeechBrain JSON manifest per split (``train.json``,
``valid.json``, ``test.json``) from a SONYC-UST release. The work is done by
:func:`speechbrain_iusp.sonyc.prepare_sonyc_ust` (targets, audio checks,
download); see its docstring and ``docs/data.md`` for the rules.

To run it alone:
> python sonyc_ust_prepare.py /path/to/SONYC-UST /path/to/manifests

Authors
 * speechbrain-iusp developers 2026
"""

import sys

from speechbrain_iusp.sonyc.prepare import prepare_sonyc_ust

__all__ = ["prepare_sonyc_ust"]

if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python sonyc_ust_prepare.py DATA_FOLDER SAVE_FOLDER")
    for split, path in prepare_sonyc_ust(sys.argv[1], sys.argv[2]).items():
        print(f"{split}: {path}")
