"""What every tagger backend shares: input checks, windows, files, and
SpeechBrain's classifier names.

A backend (:class:`~speechbrain_iusp.inference.AudioTagger` on PyTorch,
:class:`~speechbrain_iusp.inference.OnnxTagger` on ONNX Runtime) provides
``tags``, ``thresholds``, ``sample_rate``, ``clip_seconds``,
``compute_features(wavs)`` and ``_probabilities(feats, lengths)``; the
methods here check what they are given before any work and do the rest.

Authors
 * speechbrain-iusp developers 2026
"""

import math
import os

import torch

from speechbrain_iusp.features.audio import AudioError, audio_info, load_audio

MIN_SECONDS = 0.5
"""Shortest recording the tagger accepts (its time pooling needs about 0.2 s;
shorter clips have too few frames to say anything)."""


def check_rate(sample_rate):
    """A sample rate as a positive int, or a ValueError saying what is wrong.

    Arguments
    ---------
    sample_rate : int
        Samples per second.

    Returns
    -------
    int

    Example
    -------
    >>> check_rate(16000)
    16000
    >>> check_rate(0)
    Traceback (most recent call last):
    ...
    ValueError: sample_rate must be a positive whole number of Hz, not 0
    """
    if (
        isinstance(sample_rate, bool)
        or not isinstance(sample_rate, (int, float))
        or sample_rate <= 0
        or sample_rate != int(sample_rate)
    ):
        raise ValueError(
            "sample_rate must be a positive whole number of Hz, not "
            f"{sample_rate!r}"
        )
    return int(sample_rate)


def check_lengths(lengths, batch, what="wav_lens"):
    """Relative lengths ``[B]`` in (0, 1], or a ValueError naming the fix.

    Arguments
    ---------
    lengths : torch.Tensor or None
        SpeechBrain relative lengths (None: every item is full length).
    batch : int
        The batch size they must match.
    what : str
        The argument's name, for the messages.

    Returns
    -------
    torch.Tensor
        Float32 ``[B]`` on the CPU.

    Example
    -------
    >>> check_lengths(torch.tensor([1.0, 0.5]), 2)
    tensor([1.0000, 0.5000])
    >>> check_lengths(torch.tensor([88, 44]), 2)
    Traceback (most recent call last):
    ...
    ValueError: wav_lens must be relative lengths in (0, 1] ... divide absolute
    lengths by the padded length, e.g. wav_lens = lengths / wavs.shape[1]
    """
    if lengths is None:
        return torch.ones(batch)
    lengths = torch.as_tensor(lengths).detach().cpu()
    if lengths.dim() != 1 or lengths.shape[0] != batch:
        raise ValueError(
            f"{what} must have shape [{batch}] (one relative length per "
            f"item), got {list(lengths.shape)}"
        )
    lengths = lengths.float()
    bad = ~torch.isfinite(lengths) | (lengths <= 0) | (lengths > 1 + 1e-6)
    if bool(bad.any()):
        worst = lengths[bad][0].item()
        raise ValueError(
            f"{what} must be relative lengths in (0, 1] (SpeechBrain's "
            "convention: samples / longest), got values up to "
            f"{float(lengths.max()):g}"
            + (
                "; divide absolute lengths by the padded length, e.g. "
                f"{what} = lengths / wavs.shape[1]"
                if worst > 1
                else f" (item {int(bad.nonzero()[0])} is {worst:g})"
            )
        )
    return lengths.clamp(max=1.0)


class TaggerBase:
    """Tagging of waveforms, files and long recordings on any backend.

    The outputs are multi-label: every tag has its own probability (a
    sigmoid), and a tag is present when its probability is at or above its
    threshold. Inputs are checked before any work: waveforms must be
    ``[batch, samples]``, finite, with relative lengths in (0, 1], at the
    model's sample rate or with the rate given; every item must hold at
    least :data:`MIN_SECONDS` of audio.
    """

    @property
    def clip_seconds(self):
        """The clip length the model was trained on."""
        return 10.0

    def compute_features(self, wavs):
        """Features ``[B, T, F]`` of waveforms at the model's rate."""
        raise NotImplementedError

    def _probabilities(self, feats, lengths):
        """``[B, n_tags]`` probabilities of checked features (CPU)."""
        raise NotImplementedError

    def _check_wavs(self, wavs, wav_lens, sample_rate):
        """The checked batch: float32 waves, relative lengths, the rate."""
        rate = self.sample_rate if sample_rate is None else sample_rate
        rate = check_rate(rate)
        wavs = torch.as_tensor(wavs)
        if wavs.dim() != 2:
            hint = (
                "; add the batch axis (wav[None]) or use tag_file"
                if wavs.dim() == 1
                else "; average the channels first (wavs.mean(-1))"
                if wavs.dim() == 3
                else ""
            )
            raise ValueError(
                "wavs must be [batch, samples] mono waveforms, got shape "
                f"{list(wavs.shape)}{hint}"
            )
        if not wavs.is_floating_point():
            raise ValueError(
                f"wavs must be float waveforms in [-1, 1], got {wavs.dtype}"
            )
        wavs = wavs.float()
        lengths = check_lengths(wav_lens, wavs.shape[0])
        if not bool(torch.isfinite(wavs).all()):
            rows = (~torch.isfinite(wavs)).any(dim=1).nonzero()[:, 0]
            raise ValueError(
                f"wavs hold NaN or inf samples (items {rows.tolist()})"
            )
        valid = torch.round(lengths * wavs.shape[1])
        short = (valid < MIN_SECONDS * rate).nonzero()[:, 0]
        if short.numel():
            item = int(short[0])
            raise ValueError(
                f"item {item} holds {float(valid[item]) / rate:.3f} s of "
                f"audio at {rate} Hz; the tagger needs at least "
                f"{MIN_SECONDS} s (is sample_rate right? the model's is "
                f"{self.sample_rate} Hz)"
            )
        return wavs, lengths, rate

    def tag_batch(self, wavs, wav_lens=None, sample_rate=None):
        """Tag probabilities of a batch of waveforms.

        Arguments
        ---------
        wavs : torch.Tensor
            ``[B, samples]`` mono waveforms, padded to the longest.
        wav_lens : torch.Tensor, optional
            Relative lengths ``[B]`` in (0, 1] (None: all full). Absolute
            lengths are refused.
        sample_rate : int, optional
            The rate of ``wavs``; another rate than the model's is resampled
            to it. None: ``wavs`` are at the model's rate
            (``tagger.sample_rate``), as :meth:`load_audio` returns them.

        Returns
        -------
        probs : torch.Tensor
            ``[B, n_tags]`` probabilities.
        tags : list of str
            The tag of each column.
        """
        wavs, lengths, rate = self._check_wavs(wavs, wav_lens, sample_rate)
        if rate != self.sample_rate:
            import torchaudio

            wavs = torchaudio.functional.resample(wavs, rate, self.sample_rate)
        with torch.no_grad():
            feats = self.compute_features(wavs)
        return self._probabilities(feats, lengths), self.tags

    def tag_features(self, feats, lengths=None):
        """Tag probabilities of a batch of features ``[B, T, F]``.

        Arguments
        ---------
        feats : torch.Tensor
            Features as ``compute_features`` gives them.
        lengths : torch.Tensor, optional
            Relative lengths ``[B]`` in (0, 1].

        Returns
        -------
        torch.Tensor
            ``[B, n_tags]`` probabilities.
        """
        feats = torch.as_tensor(feats)
        if feats.dim() != 3:
            raise ValueError(
                f"feats must be [batch, frames, bands], got {list(feats.shape)}"
            )
        lengths = check_lengths(lengths, feats.shape[0], "lengths")
        return self._probabilities(feats.float(), lengths)

    def classify_batch(self, wavs, wav_lens=None, sample_rate=None):
        """SpeechBrain's classifier interface, for multi-label output.

        Arguments
        ---------
        wavs : torch.Tensor
            ``[B, samples]`` mono waveforms.
        wav_lens : torch.Tensor, optional
            Relative lengths ``[B]``.
        sample_rate : int, optional
            The rate of ``wavs`` (None: the model's).

        Returns
        -------
        probs : torch.Tensor
            ``[B, n_tags]`` probabilities, one independent sigmoid per tag
            (not log-posteriors: the tags are not exclusive).
        score : torch.Tensor
            ``[B]`` the highest probability of each item.
        index : torch.Tensor
            ``[B]`` the column of that probability.
        text_lab : list of list of str
            Per item, every tag at or above its threshold, most probable
            first (empty when none is).
        """
        probs, _ = self.tag_batch(wavs, wav_lens, sample_rate)
        score, index = probs.max(dim=-1)
        return probs, score, index, [self._present(p) for p in probs]

    def forward(self, wavs, wav_lens=None, sample_rate=None):
        """Same as :meth:`classify_batch`."""
        return self.classify_batch(wavs, wav_lens, sample_rate)

    def classify_file(self, path, window=None, hop=None):
        """:meth:`classify_batch` for one recording (any rate and length).

        Arguments
        ---------
        path : str
            Audio file.
        window : float, optional
            Window length for long recordings (see :meth:`tag_file`).
        hop : float, optional
            Hop between windows.

        Returns
        -------
        probs, score, index, text_lab
            As :meth:`classify_batch`, batch of one; a long recording's
            probabilities are the maxima over its windows.
        """
        result = self.tag_file(path, window, hop)
        probs = torch.tensor([[result["scores"][t] for t in self.tags]])
        score, index = probs.max(dim=-1)
        return probs, score, index, [result["tags"]]

    def _present(self, probs):
        """Tags at or above their threshold, most probable first."""
        above = probs >= self.thresholds
        order = torch.argsort(probs, descending=True).tolist()
        return [self.tags[i] for i in order if above[i]]

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

    def check_file(self, path):
        """Reads a file's header: its length in seconds, or an AudioError.

        Arguments
        ---------
        path : str
            Audio file.

        Returns
        -------
        float
            Seconds of audio (at least :data:`MIN_SECONDS`).
        """
        info = audio_info(path)
        seconds = info.frames / info.samplerate
        if seconds < MIN_SECONDS:
            raise AudioError(
                f"{path}: {seconds:.3f} s of audio; the tagger needs at "
                f"least {MIN_SECONDS} s"
            )
        return seconds

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
        seconds = self.check_file(path)
        spans = self.windows(seconds, window, hop)
        timeline, scores = [], None
        bar = _progress(len(spans), os.path.basename(str(path)), progress)
        for start, length in spans:
            wav = load_audio(path, self.sample_rate, start, length)
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
        return {
            "file": str(path),
            "seconds": round(seconds, 3),
            "scores": dict(zip(self.tags, scores.tolist(), strict=True)),
            "tags": self._present(scores),
            "timeline": timeline,
        }


def _progress(total, name, enabled):
    """A tqdm bar over windows (a no-op when disabled)."""
    from tqdm import tqdm

    return tqdm(total=total, desc=name, unit="window", disable=not enabled)
