"""A generated urban sound corpus in the SONYC-UST v1 layout (synthetic).

For machines without the real data: procedural sound models of the 23
SONYC-UST fine classes, a scene mixer, and the corpus writer with noisy
volunteer labels. Results on it are labelled as such; it is NOT SONYC-UST.

* :mod:`.corpus`: :func:`generate_corpus`, :func:`ensure_generated_corpus`,
  :func:`read_corpus_info`, the CLI
  (``python -m speechbrain_iusp.demo OUT_DIR``);
* :mod:`.scene`: the sound-model registry and the scene mixer;
* :mod:`.mechanical`, :mod:`.social`: the event models;
* :mod:`.dsp`: their signal building blocks.

Authors
 * speechbrain-iusp developers 2026
"""

from speechbrain_iusp.demo.corpus import (
    ensure_generated_corpus,
    generate_corpus,
    read_corpus_info,
)

__all__ = ["ensure_generated_corpus", "generate_corpus", "read_corpus_info"]
