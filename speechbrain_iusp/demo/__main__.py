"""``python -m speechbrain_iusp.demo OUT_DIR``: write the generated corpus."""

import sys

from speechbrain_iusp.demo.corpus import main

sys.exit(main())
