"""The distilled tagger as a product: inference, ONNX and its checks.

* :mod:`.tagger`: :class:`AudioTagger`, a SpeechBrain ``Pretrained``
  interface for multi-label tagging (files, batches, long recordings);
* :mod:`.onnx`: :class:`OnnxTagger`, the same interface on ONNX Runtime,
  and the export of a model to ONNX (verified against PyTorch).

The command lines are ``python -m speechbrain_iusp.export`` (a finished run
to a model folder) and ``python -m speechbrain_iusp.tag``.

Authors
 * speechbrain-iusp developers 2026
"""

from speechbrain_iusp.inference.tagger import MIN_SECONDS, AudioTagger

__all__ = ["MIN_SECONDS", "AudioTagger"]
