"""Data preparation for ESC-50 (environmental sound classification).

Writes one SpeechBrain JSON manifest per split (``train.json``,
``valid.json``, ``test.json``) from an ESC-50 folder: by default test fold
1, validation fold 2, training folds 3-5. The work (checks of
``meta/esc50.csv`` naming the row and column, audio checks, download into
an empty folder) is done by :func:`speechbrain_iusp.esc50.prepare_esc50`.

To run it alone:
> python esc50_prepare.py /path/to/ESC-50 /path/to/manifests [TEST VALID]

Authors
 * speechbrain-iusp developers 2026
"""

import sys

from speechbrain_iusp.esc50 import prepare_esc50

__all__ = ["prepare_esc50"]

if __name__ == "__main__":
    if len(sys.argv) not in (3, 5):
        sys.exit(
            "usage: python esc50_prepare.py DATA_FOLDER SAVE_FOLDER "
            "[TEST_FOLD VALID_FOLD]"
        )
    folds = [int(f) for f in sys.argv[3:]] or [1, 2]
    manifests = prepare_esc50(sys.argv[1], sys.argv[2], *folds, download=True)
    for split, path in manifests.items():
        print(f"{split}: {path}")
