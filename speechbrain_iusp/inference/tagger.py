"""Multi-label tagging with an exported model folder, in SpeechBrain's way.

Authors
 * speechbrain-iusp developers 2026
"""

import pickle
import zipfile
from pathlib import Path

import torch

from speechbrain.dataio.preprocess import AudioNormalizer
from speechbrain.inference.interfaces import Pretrained

from speechbrain_iusp.distill.checkpoints import damaged_file_reason
from speechbrain_iusp.inference.spec import ModelFolderError
from speechbrain_iusp.inference.tagging import TaggerBase


class AudioTagger(TaggerBase, Pretrained):
    """A multi-label audio tagger (sigmoid outputs, per-tag thresholds).

    SpeechBrain's classifiers are single-label (argmax); this interface
    returns every tag's probability. Load a model folder written by
    ``python -m speechbrain_iusp.export`` with
    ``AudioTagger.from_hparams(source=MODEL_DIR)`` or, without importing
    this package first, ``foreign_class(source=MODEL_DIR,
    pymodule_file="custom.py", classname="AudioTagger")``. Loading runs the
    folder's ``hyperparams.yaml`` through hyperpyyaml, which can call any
    Python function: load only folders you trust, or use
    :class:`~speechbrain_iusp.inference.OnnxTagger`, which reads data files
    only.

    The folder's ``hyperparams.yaml`` holds ``compute_features``, ``model``,
    ``tags`` (output names), ``thresholds`` (one per tag), ``sample_rate``,
    ``clip_seconds`` (the training clip length) and ``audio_normalizer``
    (SpeechBrain's, at the model's rate, so that :meth:`load_audio` gives
    what :meth:`tag_batch` expects; a folder without one gets it).

    Lengths: any sample rate is resampled and several channels averaged.
    A recording up to 1.25 x ``clip_seconds`` long is tagged whole (the
    model pools over its valid frames, so no padding is needed); a longer
    one is cut into windows of ``clip_seconds`` (hop ``clip_seconds / 2``),
    each window is tagged, and a tag's clip score is its maximum over the
    windows. A recording shorter than
    :data:`~speechbrain_iusp.inference.MIN_SECONDS` is refused.

    SpeechBrain's classifier names work too: ``classify_file``,
    ``classify_batch`` and ``forward`` return ``(probs, score, index,
    text_lab)`` with probabilities (not log-posteriors) and, per item, the
    list of tags at or above their thresholds.

    Usage (``tests/recipe/test_inference.py`` runs it on a real run)::

        folder = "results/iusp_small/1234/model"
        tagger = AudioTagger.from_hparams(source=folder)
        result = tagger.tag_file("street.wav")
        result["tags"]        # e.g. ['1_engine', '7_human-voice']
        result["timeline"]    # one entry per window of a long recording
        probs, _ = tagger.tag_batch(tagger.load_audio("street.wav")[None])
    """

    HPARAMS_NEEDED = ["compute_features", "tags", "sample_rate"]
    MODULES_NEEDED = ["model"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        normalizer = getattr(self.hparams, "audio_normalizer", None)
        if normalizer is None:
            self.audio_normalizer = AudioNormalizer(self.sample_rate)
        elif normalizer.sample_rate != self.sample_rate:
            raise ModelFolderError(
                f"hyperparams.yaml: audio_normalizer resamples to "
                f"{normalizer.sample_rate} Hz but the model takes "
                f"{self.sample_rate} Hz; set its sample_rate to "
                f"{self.sample_rate} or remove it"
            )

    @classmethod
    def from_hparams(cls, source, *args, **kwargs):
        """SpeechBrain's ``from_hparams``; a damaged ``model.ckpt`` is named.

        Arguments
        ---------
        source : str
            The model folder (or any source SpeechBrain accepts).
        *args, **kwargs
            As ``Pretrained.from_hparams``.

        Returns
        -------
        AudioTagger
        """
        try:
            return super().from_hparams(source, *args, **kwargs)
        except (
            RuntimeError,
            EOFError,
            pickle.UnpicklingError,
            zipfile.BadZipFile,
        ) as err:
            ckpt = Path(str(source)) / "model.ckpt"
            if not ckpt.is_file():
                raise
            why = damaged_file_reason(ckpt) or (
                f"unreadable or of another model: {type(err).__name__}: "
                f"{str(err).splitlines()[0][:200]}"
            )
            raise ModelFolderError(
                f"{ckpt}: the weights file is {why}. Write the model folder "
                "again from its run: python -m speechbrain_iusp.export "
                f"RUN_FOLDER {source}"
            ) from err

    @property
    def tags(self):
        """The output names (the fine tags, then the coarse tags)."""
        return list(self.hparams.tags)

    @property
    def sample_rate(self):
        """The rate the model's features take."""
        return int(self.hparams.sample_rate)

    @property
    def thresholds(self):
        """One decision threshold per tag (0.5 unless tuned)."""
        values = getattr(self.hparams, "thresholds", None)
        if values is None:
            return torch.full((len(self.tags),), 0.5)
        return torch.as_tensor(values, dtype=torch.float32)

    @property
    def clip_seconds(self):
        """The clip length the model was trained on."""
        return float(getattr(self.hparams, "clip_seconds", 10.0))

    def compute_features(self, wavs):
        """Features ``[B, T, F]`` of waveforms at the model's rate."""
        return self.hparams.compute_features(wavs.to(self.device))

    def _probabilities(self, feats, lengths):
        """``[B, n_tags]`` probabilities (CPU)."""
        with torch.no_grad():
            logits = self.mods.model(
                feats.to(self.device), lengths.to(self.device)
            )
        return torch.sigmoid(logits).cpu()
