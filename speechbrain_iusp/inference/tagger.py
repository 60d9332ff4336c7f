"""Multi-label tagging with an exported model folder, in SpeechBrain's way.

Authors
 * speechbrain-iusp developers 2026
"""

import math
import os

import torch

from speechbrain.inference.interfaces import Pretrained

from speechbrain_iusp.features.audio import AudioError, audio_info, load_audio

MIN_SECONDS = 0.5
"""Shortest recording the tagger accepts (its time pooling needs about 0.2 s;
shorter clips have too few frames to say anything)."""


class AudioTagger(Pretrained):
    """A multi-label audio tagger (sigmoid outputs, per-tag thresholds).

    SpeechBrain's classifiers are single-label (argmax); this interface
    returns every tag's probability. Load a model folder written by
    ``python -m speechbrain_iusp.export`` with
    ``AudioTagger.from_hparams(source=MODEL_DIR)`` or, without importing
    this package first, ``foreign_class(source=MODEL_DIR,
    pymodule_file="custom.py", classname="AudioTagger")``.

    The folder's ``hyperparams.yaml`` holds ``compute_features``, ``model``,
    ``tags`` (output names), ``thresholds`` (one per tag), ``sample_rate``
    and ``clip_seconds`` (the training clip length).

    Lengths: any sample rate is resampled and several channels averaged.
    A recording up to 1.25 x ``clip_seconds`` long is tagged whole (the
    model pools over its valid frames, so no padding is needed); a longer
    one is cut into windows of ``clip_seconds`` (hop ``clip_seconds / 2``),
    each window is tagged, and a tag's clip score is its maximum over the
    windows. A recording shorter than :data:`MIN_SECONDS` is refused.

    Usage (``tests/recipe/test_inference.py`` runs it on a real run)::

        folder = "results/iusp_small/1234/model"
        tagger = AudioTagger.from_hparams(source=folder)
        result = tagger.tag_file("street.wav")
        result["tags"]        # e.g. ['1_engine', '7_human-voice']
        result["timeline"]    # one entry per window of a long recording
    """

    HPARAMS_NEEDED = ["compute_features", "tags", "sample_rate"]
    MODULES_NEEDED = ["model"]

    @property
    def tags(self):
        """The output names (the fine tags, then the coarse tags)."""
        return list(self.hparams.tags)

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

    def tag_batch(self, wavs, wav_lens=None):
        """Tag probabilities of a batch of waveforms.

        Arguments
        ---------
        wavs : torch.Tensor
            ``[B, samples]`` at the model's sample rate.
        wav_lens : torch.Tensor, optional
            Relative lengths ``[B]`` (None: all full).

        Returns
        -------
        probs : torch.Tensor
            ``[B, n_tags]`` probabilities.
        tags : list of str
            The tag of each column.
        """
        wavs = wavs.to(self.device).float()
        if wav_lens is None:
            wav_lens = torch.ones(wavs.shape[0], device=self.device)
        with torch.no_grad():
            feats = self.hparams.compute_features(wavs)
            return self.tag_features(feats, wav_lens.to(self.device)), self.tags

    def tag_features(self, feats, lengths=None):
        """Tag probabilities of a batch of features ``[B, T, F]``.

        Arguments
        ---------
        feats : torch.Tensor
            Features as ``compute_features`` gives them.
        lengths : torch.Tensor, optional
            Relative lengths ``[B]``.

        Returns
        -------
        torch.Tensor
            ``[B, n_tags]`` probabilities.
        """
        session = getattr(self, "_onnx", None)
        if session is not None:
            from speechbrain_iusp.inference.onnx import run_onnx

            if lengths is not None and not bool((lengths == 1).all()):
                raise ValueError(
                    "the ONNX model takes full-length inputs; tag padded "
                    "batches with the torch backend or one clip at a time"
                )
            return run_onnx(session, feats)
        with torch.no_grad():
            logits = self.mods.model(feats.to(self.device), lengths)
        return torch.sigmoid(logits).cpu()

    def use_onnx(self, path, threads=None):
        """Runs the model with ONNX Runtime from now on (features in torch).

        Arguments
        ---------
        path : str
            ``model.onnx`` (or ``model.int8.onnx``) of the model folder.
        threads : int, optional
            ONNX Runtime intra-op threads.
        """
        from speechbrain_iusp.inference.onnx import onnx_session

        self._onnx = onnx_session(path, threads)

    def windows(self, seconds, window=None, hop=None):
        """Start and length (in seconds) of the windows of a recording.

        Arguments
        ---------
        seconds : float
            Length of the recording.
        window : float, optional
            Window length (default: ``clip_seconds``).
        hop : float, optional
            Hop (default: half the window).

        Returns
        -------
        list of (float, float)
            One window when the recording fits in one (without ``window``:
            up to 1.25 x ``clip_seconds``); the last window ends at the end
            of the recording.
        """
        whole = window is None and seconds <= 1.25 * self.clip_seconds
        window = float(window or self.clip_seconds)
        hop = float(hop or window / 2)
        if window <= 0 or hop <= 0:
            raise ValueError(f"window ({window}) and hop ({hop}) must be > 0")
        if whole or seconds <= window:
            return [(0.0, seconds)]
        count = math.ceil((seconds - window) / hop) + 1
        starts = [min(i * hop, seconds - window) for i in range(count)]
        return [(start, window) for start in sorted(set(starts))]

    def tag_file(self, path, window=None, hop=None, progress=False):
        """Tags one recording; windows for a long one.

        Arguments
        ---------
        path : str
            Audio file (any rate, any number of channels).
        window : float, optional
            Window length in seconds for long recordings (default:
            ``clip_seconds``).
        hop : float, optional
            Hop between windows (default: half the window).
        progress : bool
            Show a progress bar over the windows.

        Returns
        -------
        dict
            ``file``, ``seconds``, ``scores`` (tag -> clip probability, the
            maximum over the windows), ``tags`` (the tags at or above their
            threshold, most probable first), ``timeline`` (one entry per
            window: ``start``, ``end``, ``scores``).
        """
        info = audio_info(path)
        seconds = info.frames / info.samplerate
        if seconds < MIN_SECONDS:
            raise AudioError(
                f"{path}: {seconds:.3f} s of audio; the tagger needs at "
                f"least {MIN_SECONDS} s"
            )
        spans = self.windows(seconds, window, hop)
        timeline, scores = [], None
        bar = _progress(len(spans), os.path.basename(str(path)), progress)
        for start, length in spans:
            wav = load_audio(path, self.hparams.sample_rate, start, length)
            probs, _ = self.tag_batch(wav.unsqueeze(0))
            probs = probs[0]
            scores = probs if scores is None else torch.maximum(scores, probs)
            timeline.append(
                {
                    "start": round(start, 3),
                    "end": round(start + length, 3),
                    "scores": dict(zip(self.tags, probs.tolist(), strict=True)),
                }
            )
            bar.update(1)
        bar.close()
        above = scores >= self.thresholds
        order = torch.argsort(scores, descending=True).tolist()
        return {
            "file": str(path),
            "seconds": round(seconds, 3),
            "scores": dict(zip(self.tags, scores.tolist(), strict=True)),
            "tags": [self.tags[i] for i in order if above[i]],
            "timeline": timeline,
        }


def _progress(total, name, enabled):
    """A tqdm bar over windows (a no-op when disabled)."""
    from tqdm import tqdm

    return tqdm(total=total, desc=name, unit="window", disable=not enabled)
