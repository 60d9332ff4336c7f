"""Tests of speechbrain_iusp.features: audio reading and the feature cache.

Authors
 * speechbrain-iusp developers 2026
"""

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
import soundfile as sf
import torch

from speechbrain.lobes.features import Fbank

from speechbrain_iusp.features import (
    AudioError,
    FeatureCache,
    features_fingerprint,
    load_audio,
)

SR = 16000


def _fbank(**kw):
    return Fbank(sample_rate=SR, n_mels=kw.pop("n_mels", 40), **kw)


def _write(path, seconds=1.0, seed=0, channels=1, rate=SR):
    rng = np.random.default_rng(seed)
    data = 0.3 * rng.standard_normal((int(seconds * rate), channels))
    sf.write(str(path), data, rate, subtype="PCM_16")
    return str(path)


@pytest.fixture
def wavs(tmp_path):
    return [_write(tmp_path / f"clip{i}.wav", seed=i) for i in range(4)]


# ---------------------------------------------------------------------------
# load_audio
# ---------------------------------------------------------------------------


def test_load_audio_downmixes_and_resamples(tmp_path):
    stereo = _write(tmp_path / "s.wav", channels=2)
    data, _ = sf.read(stereo, dtype="float32")
    torch.testing.assert_close(
        load_audio(stereo), torch.from_numpy(data.mean(axis=1))
    )
    other = _write(tmp_path / "o.wav", seconds=0.5, rate=48000)
    assert load_audio(other, sample_rate=SR).shape == (SR // 2,)
    assert load_audio(other).shape == (24000,)


@pytest.mark.parametrize("fault", ["nan", "empty", "garbage"])
def test_load_audio_refuses_bad_files_by_name(tmp_path, fault):
    path = tmp_path / f"{fault}.wav"
    if fault == "nan":
        data = np.zeros(SR, dtype=np.float32)
        data[10] = np.nan
        sf.write(str(path), data, SR, subtype="FLOAT")
        expected = "NaN or inf"
    elif fault == "empty":
        sf.write(str(path), np.zeros(0), SR)
        expected = "empty"
    else:
        path.write_bytes(b"not a wav file at all")
        expected = "unreadable"
    with pytest.raises(AudioError, match=expected) as err:
        load_audio(path)
    assert str(path) in str(err.value)


# ---------------------------------------------------------------------------
# FeatureCache
# ---------------------------------------------------------------------------


def test_cached_features_equal_live_features(tmp_path, wavs):
    fbank = _fbank()
    cache = FeatureCache(tmp_path / "cache", fbank, SR)
    batch = torch.stack([load_audio(w) for w in wavs])
    live = fbank(batch)
    for i, wav in enumerate(wavs):
        torch.testing.assert_close(
            cache.load(wav), live[i], rtol=1e-5, atol=1e-5
        )
    assert cache.misses == len(wavs) and cache.hits == 0
    again = FeatureCache(tmp_path / "cache", _fbank(), SR)
    for i, wav in enumerate(wavs):
        torch.testing.assert_close(
            again.load(wav), live[i], rtol=1e-5, atol=1e-5
        )
    assert again.hits == len(wavs) and again.misses == 0


def test_changed_wav_forces_a_recompute(tmp_path, wavs):
    cache = FeatureCache(tmp_path / "cache", _fbank(), SR)
    before, key = cache.load_with_key(wavs[0])
    time.sleep(0.01)
    _write(wavs[0], seed=99)  # same path and size, new content and mtime
    after, new_key = cache.load_with_key(wavs[0])
    assert new_key != key
    assert cache.misses == 2
    assert not torch.allclose(after, before)
    torch.testing.assert_close(after, cache.compute(wavs[0]))


def test_memory_layer_serves_copies_and_respects_file_changes(tmp_path, wavs):
    cache = FeatureCache(tmp_path / "cache", _fbank(), SR)
    first = cache.load(wavs[0])
    entry = cache._entry_path(cache.entry_key(wavs[0]))
    entry.unlink()  # a second load comes from memory, not from disk
    again = cache.load(wavs[0])
    assert torch.equal(again, first) and cache.hits == 1
    again.zero_()  # a caller's change does not reach the kept copy
    assert torch.equal(cache.load(wavs[0]), first)
    time.sleep(0.01)
    _write(wavs[0], seed=7)  # a changed file is computed again
    assert not torch.allclose(cache.load(wavs[0]), first)
    assert cache.misses == 2
    small = FeatureCache(tmp_path / "small", _fbank(), SR, memory_mb=0)
    small.load(wavs[0])
    assert small._memory == {}  # no budget, nothing kept


def test_changed_feature_settings_force_a_recompute(tmp_path, wavs):
    base = FeatureCache(tmp_path / "cache", _fbank(), SR)
    base.load(wavs[0])
    for other in (
        _fbank(n_mels=64),
        _fbank(hop_length=20),
        _fbank(f_max=4000),
        _fbank(filter_shape="gaussian"),
    ):
        cache = FeatureCache(tmp_path / "cache", other, SR)
        assert cache.key != base.key
        cache.load(wavs[0])
        assert cache.misses == 1 and cache.hits == 0
    # the same settings in a new object share the entries
    same = FeatureCache(tmp_path / "cache", _fbank(), SR)
    assert same.key == base.key
    same.load(wavs[0])
    assert same.hits == 1
    assert features_fingerprint(_fbank(), SR) != features_fingerprint(
        _fbank(), 22050
    )


def test_unreadable_entry_is_computed_again(tmp_path, wavs, caplog):
    cache = FeatureCache(tmp_path / "cache", _fbank(), SR)
    expected, key = cache.load_with_key(wavs[0])
    entry = cache._entry_path(key)
    entry.write_bytes(entry.read_bytes()[:40])  # truncated
    fresh = FeatureCache(tmp_path / "cache", _fbank(), SR)
    with caplog.at_level("WARNING"):
        value = fresh.load(wavs[0])
    assert "unreadable" in caplog.text
    torch.testing.assert_close(value, expected)
    assert fresh.misses == 1
    np.load(entry)  # rewritten whole


_FILLER = textwrap.dedent(
    """
    import io, sys, time
    import numpy as np
    from speechbrain.lobes.features import Fbank
    from speechbrain_iusp.features import FeatureCache

    real_save = np.save

    def slow_save(fout, array):  # half the bytes, a pause, the rest
        buf = io.BytesIO()
        real_save(buf, array)
        data = buf.getvalue()
        fout.write(data[: len(data) // 2])
        fout.flush()
        time.sleep(0.2)
        fout.write(data[len(data) // 2 :])

    np.save = slow_save
    cache = FeatureCache(sys.argv[1], Fbank(sample_rate=16000, n_mels=40),
                         16000)
    print("ready", flush=True)
    while True:  # rewrite every entry until killed
        for path in sys.argv[2:]:
            cache._write(cache._entry_path(cache.entry_key(path)),
                         cache.compute(path))
    """
)


def test_kill_during_writes_leaves_a_usable_cache(tmp_path):
    wavs = [
        _write(tmp_path / f"long{i}.wav", seconds=20.0, seed=i)
        for i in range(3)
    ]
    folder = tmp_path / "cache"
    proc = subprocess.Popen(
        [sys.executable, "-c", _FILLER, str(folder), *wavs],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout.readline().strip() == "ready"
    time.sleep(1.5)  # several writes done, most likely one half written
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    cache = FeatureCache(folder, _fbank(), SR)
    # every entry that exists loads whole; a stray temporary file may remain
    entries = list(cache.folder.glob("*.npy"))
    assert entries
    for entry in entries:
        assert np.load(entry).shape[1] == 40
    for wav in wavs:
        torch.testing.assert_close(cache.load(wav), cache.compute(wav))
    assert cache.hits >= 1


def test_parallel_writers_share_a_folder(tmp_path, wavs):
    folder = tmp_path / "cache"
    code = (
        "import sys\n"
        "from speechbrain.lobes.features import Fbank\n"
        "from speechbrain_iusp.features import FeatureCache\n"
        "FeatureCache(sys.argv[1], Fbank(sample_rate=16000, n_mels=40),"
        " 16000).fill(sys.argv[2:])\n"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", code, str(folder), *wavs])
        for _ in range(2)
    ]
    assert all(p.wait(timeout=120) == 0 for p in procs)
    cache = FeatureCache(folder, _fbank(), SR)
    assert cache.fill(wavs) == 0
    assert sorted(os.listdir(cache.folder)) == sorted(
        [p.name for p in cache.folder.glob("*.npy")] + ["setting.json"]
    )
