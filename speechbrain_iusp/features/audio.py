"""Reading audio for the taggers: mono, finite, at the features' sample rate.

Authors
 * speechbrain-iusp developers 2026
"""

import logging
import os

import soundfile
import torch

logger = logging.getLogger(__name__)


class AudioError(ValueError):
    """An audio file that cannot be used; the message names the file."""


def audio_info(path):
    """soundfile's info of an audio file, or an AudioError naming it.

    Arguments
    ---------
    path : str
        Audio file.

    Returns
    -------
    soundfile._SoundFileInfo
        ``samplerate``, ``frames``, ``channels``, ...
    """
    if not os.path.isfile(path):
        raise AudioError(f"{path}: no such file")
    try:
        info = soundfile.info(str(path))
    except Exception as err:  # soundfile raises several types
        raise AudioError(
            f"{path}: unreadable audio ({type(err).__name__}: {err})"
        ) from err
    if info.frames <= 0:
        raise AudioError(f"{path}: empty audio (no samples)")
    return info


def load_audio(path, sample_rate=None, start=0.0, seconds=None):
    """Reads an audio file (or a span of it) as a mono float32 waveform.

    Several channels are averaged; another sample rate than ``sample_rate``
    is resampled to it (``torchaudio.functional.resample``, with a log
    line). A file that is missing, cannot be read, has no samples, or holds
    NaN or inf samples raises :class:`AudioError` naming the file. Only the
    span is read, so that hours of audio can be read a window at a time.

    Arguments
    ---------
    path : str
        Audio file (any format soundfile reads).
    sample_rate : int, optional
        The rate the features expect; None keeps the file's rate.
    start : float
        Where the span starts, in seconds.
    seconds : float, optional
        Length of the span (None: to the end of the file).

    Returns
    -------
    torch.Tensor
        The waveform ``[samples]``, float32.

    Example
    -------
    >>> import os
    >>> path = os.path.join(getfixture("tmpdir"), "a.wav")
    >>> soundfile.write(path, [[0.5, -0.5], [0.25, 0.25]], 8000)
    >>> load_audio(path)
    tensor([0.0000, 0.2500])
    >>> load_audio(path, sample_rate=16000).shape
    torch.Size([4])
    >>> load_audio(path, start=1 / 8000)
    tensor([0.2500])
    """
    rate = audio_info(path).samplerate
    with soundfile.SoundFile(str(path)) as fin:
        fin.seek(int(round(start * rate)))
        count = -1 if seconds is None else int(round(seconds * rate))
        data = fin.read(count, dtype="float32", always_2d=True)
    if data.shape[0] == 0:
        raise AudioError(f"{path}: empty audio (no samples)")
    wav = torch.from_numpy(
        data.mean(axis=1) if data.shape[1] > 1 else data[:, 0]
    )
    if not bool(torch.isfinite(wav).all()):
        bad = int((~torch.isfinite(wav)).sum())
        raise AudioError(
            f"{path}: {bad} NaN or inf samples; re-encode or remove the file"
        )
    if sample_rate is not None and rate != sample_rate:
        import torchaudio

        logger.info(
            "Resampling %s from %d Hz to %d Hz", path, rate, sample_rate
        )
        wav = torchaudio.functional.resample(wav, rate, sample_rate)
    return wav.contiguous()
