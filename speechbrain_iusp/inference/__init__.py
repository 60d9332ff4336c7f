"""The distilled tagger as a product: inference, ONNX and its checks.

* :mod:`.tagging`: what every backend shares (input checks, windows for
  long recordings, SpeechBrain's classifier names);
* :mod:`.tagger`: :class:`AudioTagger`, a SpeechBrain ``Pretrained``
  interface for multi-label tagging (files, batches, long recordings);
  it runs the folder's ``hyperparams.yaml``, so it trusts the folder;
* :mod:`.onnx`: :class:`OnnxTagger`, the same interface on ONNX Runtime
  from data files only (``tagger.json``, ``model.onnx``), and the export of
  a model to ONNX (verified against PyTorch);
* :mod:`.spec`: ``tagger.json``, a model folder's description as data.

The command lines are ``python -m speechbrain_iusp.export`` (a finished run
to a model folder) and ``python -m speechbrain_iusp.tag``.

Authors
 * speechbrain-iusp developers 2026
"""

from speechbrain_iusp.inference.onnx import OnnxTagger
from speechbrain_iusp.inference.spec import ModelFolderError
from speechbrain_iusp.inference.tagger import AudioTagger
from speechbrain_iusp.inference.tagging import MIN_SECONDS

__all__ = ["MIN_SECONDS", "AudioTagger", "ModelFolderError", "OnnxTagger"]
