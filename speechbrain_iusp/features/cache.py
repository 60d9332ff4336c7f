"""A disk cache of features: computed once per clip and feature setting.

Authors
 * speechbrain-iusp developers 2026
"""

import hashlib
import json
import logging
import os
import uuid
from pathlib import Path

import numpy as np
import torch

from speechbrain_iusp.features.audio import load_audio
from speechbrain_iusp.runtime import atomic_write_text

logger = logging.getLogger(__name__)

# Bump when the way entries are computed or stored changes.
CACHE_VERSION = "1"
_PROBE_SECONDS = 1.0


def features_fingerprint(compute_features, sample_rate):
    """A hash of what a feature function computes, from its output.

    The function is run on a fixed probe signal (1 s of seeded noise with a
    tone); its output shape and values (rounded to 4 decimals, so that a
    last-bit difference between machines does not matter) are hashed with
    its class name, the sample rate and :data:`CACHE_VERSION`. Any change of
    a setting that changes the features (window, hop, bands, range, ...)
    changes the fingerprint; two settings that compute the same features
    share it.

    Arguments
    ---------
    compute_features : callable
        ``wavs [B, samples] -> feats [B, T, F]``.
    sample_rate : int
        The sample rate the features are computed at.

    Returns
    -------
    str
        16 hex digits.

    Example
    -------
    >>> from speechbrain.lobes.features import Fbank
    >>> a = features_fingerprint(Fbank(n_mels=40), 16000)
    >>> a == features_fingerprint(Fbank(n_mels=40), 16000)
    True
    >>> a == features_fingerprint(Fbank(n_mels=64), 16000)
    False
    """
    gen = torch.Generator().manual_seed(1234)
    n = int(_PROBE_SECONDS * sample_rate)
    t = torch.arange(n) / sample_rate
    probe = 0.1 * torch.randn(n, generator=gen) + 0.5 * torch.sin(
        2 * torch.pi * 440.0 * t
    )
    with torch.no_grad():
        out = compute_features(probe.unsqueeze(0).float())
    values = np.round(out.detach().cpu().double().numpy(), 4)
    digest = hashlib.sha1()
    digest.update(type(compute_features).__qualname__.encode())
    digest.update(f"{sample_rate}|{CACHE_VERSION}|{tuple(out.shape)}".encode())
    digest.update(np.ascontiguousarray(values).tobytes())
    return digest.hexdigest()[:16]


class FeatureCache:
    """Features computed once per audio file and setting, kept on disk.

    An entry is the features ``[T, F]`` of one file, as float32 ``.npy``, in
    ``folder/<setting>/``, where ``<setting>`` is
    :func:`features_fingerprint` of ``compute_features``. Its name hashes the
    file's absolute path, size and modification time, so a changed file, a
    changed setting or another code version (:data:`CACHE_VERSION`) never
    gets stale features. Entries are written to a temporary file and
    renamed, so a run killed while writing leaves no half entry; a file
    that cannot be read is computed again. Several processes (DDP ranks,
    parallel runs) may share a folder: a rename is atomic and every writer
    writes the same content.

    Audio is read with :func:`load_audio` (mono, resampled to
    ``sample_rate``, non-finite samples refused), and the features are
    ``compute_features(wav[None])[0]`` under ``torch.no_grad()``.

    Arguments
    ---------
    folder : str or Path
        Root of the cache (shared by runs with the same features).
    compute_features : callable
        ``wavs [B, samples] -> feats [B, T, F]`` (e.g. SpeechBrain's
        ``Fbank``).
    sample_rate : int
        The rate the features expect.
    memory_mb : float
        Entries read in this process are also kept in memory, up to this
        many MB (0 = none), so that later epochs skip the ``.npy`` read. A
        kept entry is still looked up by its key (the file's size and
        mtime are checked at every load), so a changed file is never served
        from memory.

    Example
    -------
    >>> import os, soundfile
    >>> from speechbrain.lobes.features import Fbank
    >>> tmp = getfixture("tmpdir")
    >>> wav = os.path.join(tmp, "a.wav")
    >>> soundfile.write(wav, np.random.rand(16000) - 0.5, 16000)
    >>> cache = FeatureCache(os.path.join(tmp, "cache"), Fbank(), 16000)
    >>> feats = cache.load(wav)
    >>> feats.shape
    torch.Size([101, 40])
    >>> torch.equal(cache.load(wav), feats), cache.misses, cache.hits
    (True, 1, 1)
    """

    def __init__(self, folder, compute_features, sample_rate, memory_mb=1024):
        self.compute_features = compute_features
        self.sample_rate = int(sample_rate)
        self.key = features_fingerprint(compute_features, self.sample_rate)
        self.folder = Path(folder) / self.key
        self.hits = 0
        self.misses = 0
        self.memory_bytes = int(memory_mb * 2**20)
        self._memory = {}
        self._memory_used = 0

    def entry_key(self, path):
        """The name of a file's entry: its path, size and mtime, hashed.

        Arguments
        ---------
        path : str
            Audio file.

        Returns
        -------
        str
            ``<setting>-<file>`` (hex), unique per file version and setting.
        """
        path = os.path.abspath(str(path))
        stat = os.stat(path)
        ident = f"{path}|{stat.st_size}|{stat.st_mtime_ns}"
        return f"{self.key}-{hashlib.sha1(ident.encode()).hexdigest()[:24]}"

    def _entry_path(self, key):
        """Where an entry is stored."""
        return self.folder / f"{key.split('-', 1)[1]}.npy"

    def load(self, path):
        """The features of an audio file, from the cache or computed now.

        Arguments
        ---------
        path : str
            Audio file.

        Returns
        -------
        torch.Tensor
            Features ``[T, F]``, float32.
        """
        return self.load_with_key(path)[0]

    def load_with_key(self, path):
        """The features of a file and the key of its entry.

        Arguments
        ---------
        path : str
            Audio file.

        Returns
        -------
        feats : torch.Tensor
            Features ``[T, F]``, float32.
        key : str
            The entry key (changes when the file or the setting changes).
        """
        key = self.entry_key(path)
        if key in self._memory:
            self.hits += 1
            return self._memory[key].clone(), key
        entry = self._entry_path(key)
        if entry.is_file():
            try:
                feats = torch.from_numpy(np.load(entry))
                self.hits += 1
                self._keep(key, feats)
                return feats, key
            except (OSError, ValueError) as err:
                logger.warning(
                    "Feature cache entry %s is unreadable (%s); computing it "
                    "again",
                    entry,
                    err,
                )
        feats = self.compute(path)
        self._write(entry, feats)
        self.misses += 1
        self._keep(key, feats)
        return feats, key

    def _keep(self, key, feats):
        """Keeps a copy of an entry in memory while the budget allows."""
        size = feats.numel() * feats.element_size()
        if self._memory_used + size <= self.memory_bytes:
            self._memory[key] = feats.clone()
            self._memory_used += size

    def compute(self, path):
        """Computes the features of a file (no cache).

        Arguments
        ---------
        path : str
            Audio file.

        Returns
        -------
        torch.Tensor
            Features ``[T, F]``, float32.
        """
        wav = load_audio(path, self.sample_rate)
        with torch.no_grad():
            feats = self.compute_features(wav.unsqueeze(0))[0]
        return feats.detach().float().cpu().contiguous()

    def _write(self, entry, feats):
        """Writes an entry atomically (temporary file, then rename)."""
        entry.parent.mkdir(parents=True, exist_ok=True)
        info = self.folder / "setting.json"
        if not info.exists():
            atomic_write_text(
                info,
                json.dumps(
                    {
                        "features": repr(self.compute_features),
                        "class": type(self.compute_features).__qualname__,
                        "sample_rate": self.sample_rate,
                        "version": CACHE_VERSION,
                    },
                    indent=2,
                ),
            )
        tmp = entry.with_name(f".{entry.name}.{uuid.uuid4().hex}.tmp")
        with open(tmp, "wb") as fout:
            np.save(fout, feats.numpy())
        os.replace(tmp, entry)

    def fill(self, paths):
        """Computes the entries that are missing, with a progress log.

        Arguments
        ---------
        paths : iterable of str
            Audio files.

        Returns
        -------
        int
            The number of entries computed.
        """
        paths = list(paths)
        before = self.misses
        for i, path in enumerate(paths):
            if not self._entry_path(self.entry_key(path)).is_file():
                self.load(path)
            if (i + 1) % 1000 == 0:
                logger.info("Feature cache: %d / %d files", i + 1, len(paths))
        computed = self.misses - before
        logger.info(
            "Feature cache %s: %d files, %d computed now",
            self.folder,
            len(paths),
            computed,
        )
        return computed


def feature_cache_from_hparams(hparams):
    """The FeatureCache a recipe's hparams ask for, or None.

    None when ``feature_cache`` is false, or when ``wav_augment`` changes
    the waveforms every epoch (the features are then computed for every
    batch).

    Arguments
    ---------
    hparams : dict
        ``feature_cache``, ``feature_cache_folder``, ``compute_features``,
        ``sample_rate``; optional ``feature_cache_memory_mb`` (1024) and
        ``wav_augment``.

    Returns
    -------
    FeatureCache or None

    Example
    -------
    >>> feature_cache_from_hparams({"feature_cache": False}) is None
    True
    """
    if not hparams["feature_cache"]:
        return None
    if hparams.get("wav_augment") is not None:
        logger.info(
            "Feature cache bypassed: wav_augment changes the waveforms "
            "every epoch, so the features are computed for every batch."
        )
        return None
    return FeatureCache(
        hparams["feature_cache_folder"],
        hparams["compute_features"],
        hparams["sample_rate"],
        memory_mb=hparams.get("feature_cache_memory_mb", 1024),
    )
