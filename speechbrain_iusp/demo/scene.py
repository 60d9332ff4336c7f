"""The sound-model registry and the scene mixer of the generated corpus.

``SOUND_MODELS`` names every event model, ``FINE_CODE_MODELS`` maps a v1
fine tag code to one, and :func:`synthesize` renders one. ``render_scene``
mixes labelled events over an urban background (traffic with passing swells,
wind, rain) plus unlabelled distractors that mimic the classes' bands (birds,
HVAC hum, clicks, crossing-signal beeps, distant rumble, brake squeal); its
difficulty knobs are the fields of :class:`MixConfig`.

Authors
 * speechbrain-iusp developers 2026
"""

from dataclasses import dataclass

import numpy as np
from scipy import signal

from speechbrain_iusp.demo import dsp
from speechbrain_iusp.demo.dsp import CLIP_SECONDS, SAMPLE_RATE, TWO_PI
from speechbrain_iusp.demo.mechanical import (
    alert_signal,
    engine,
    machinery_impact,
    non_machinery_impact,
    powered_saw,
    tone_from_freq,
)
from speechbrain_iusp.demo.social import dog, human_voice, music


def _bind(fn, **kw):
    def model(rng, n, sr):
        return fn(rng, n, sr, **kw)

    model.__name__ = fn.__name__
    return model


SOUND_MODELS = {
    "small-engine": _bind(engine, size="small"),
    "medium-engine": _bind(engine, size="medium"),
    "large-engine": _bind(engine, size="large"),
    "rock-drill": _bind(machinery_impact, kind="rock-drill"),
    "jackhammer": _bind(machinery_impact, kind="jackhammer"),
    "hoe-ram": _bind(machinery_impact, kind="hoe-ram"),
    "pile-driver": _bind(machinery_impact, kind="pile-driver"),
    "non-machinery-impact": non_machinery_impact,
    "chainsaw": _bind(powered_saw, kind="chainsaw"),
    "small-medium-rotating-saw": _bind(
        powered_saw, kind="small-medium-rotating"
    ),
    "large-rotating-saw": _bind(powered_saw, kind="large-rotating"),
    "car-horn": _bind(alert_signal, kind="car-horn"),
    "car-alarm": _bind(alert_signal, kind="car-alarm"),
    "siren": _bind(alert_signal, kind="siren"),
    "reverse-beeper": _bind(alert_signal, kind="reverse-beeper"),
    "stationary-music": _bind(music, kind="stationary"),
    "mobile-music": _bind(music, kind="mobile"),
    "ice-cream-truck": _bind(music, kind="ice-cream-truck"),
    "talking": _bind(human_voice, kind="talking"),
    "shouting": _bind(human_voice, kind="shouting"),
    "large-crowd": _bind(human_voice, kind="crowd"),
    "amplified-speech": _bind(human_voice, kind="amplified"),
    "dog": dog,
}

# v1 fine tag code -> sound model; the corpus maps labels through their code.
FINE_CODE_MODELS = {
    "1-1": "small-engine",
    "1-2": "medium-engine",
    "1-3": "large-engine",
    "2-1": "rock-drill",
    "2-2": "jackhammer",
    "2-3": "hoe-ram",
    "2-4": "pile-driver",
    "3-1": "non-machinery-impact",
    "4-1": "chainsaw",
    "4-2": "small-medium-rotating-saw",
    "4-3": "large-rotating-saw",
    "5-1": "car-horn",
    "5-2": "car-alarm",
    "5-3": "siren",
    "5-4": "reverse-beeper",
    "6-1": "stationary-music",
    "6-2": "mobile-music",
    "6-3": "ice-cream-truck",
    "7-1": "talking",
    "7-2": "shouting",
    "7-3": "large-crowd",
    "7-4": "amplified-speech",
    "8-1": "dog",
}


def synthesize(model, rng, n, sr=SAMPLE_RATE):
    """Synthesise ``n`` samples of one named sound model.

    Arguments
    ---------
    model : str
        A key of ``SOUND_MODELS`` (e.g. ``"siren"``) or of ``DISTRACTORS``.
    rng : numpy.random.Generator
        Source of randomness.
    n : int
        Number of samples.
    sr : int
        Sample rate.

    Returns
    -------
    numpy.ndarray
        ``n`` float64 samples.

    Example
    -------
    >>> x = synthesize("reverse-beeper", np.random.default_rng(0), 8820)
    >>> x.shape, x.dtype
    ((8820,), dtype('float64'))
    """
    fn = SOUND_MODELS.get(model) or DISTRACTORS.get(model)
    if fn is None:
        known = sorted(SOUND_MODELS) + sorted(DISTRACTORS)
        raise KeyError(f"Unknown sound model '{model}'; known: {known}")
    n = int(n)
    if sr >= 32000 and sr % 2 == 0 and n >= 64:
        # Events carry nothing the taggers use above sr / 4: synthesise at
        # half rate and upsample (twice as fast).
        half = fn(rng, (n + 1) // 2, sr // 2)
        x = signal.resample_poly(half, 2, 1)[:n]
    else:
        x = np.asarray(fn(rng, n, sr), dtype=np.float64)
    if x.shape != (n,) or not np.isfinite(x).all():
        raise RuntimeError(f"Sound model '{model}' returned a bad signal")
    return x


# ----------------------------------------------------------------------------
# Background and distractors
# ----------------------------------------------------------------------------
def background(rng, n, sr):
    """Urban bed: traffic noise with passing swells, maybe wind and rain.

    Arguments
    ---------
    rng : numpy.random.Generator
        Source of randomness.
    n : int
        Number of samples.
    sr : int
        Sample rate.

    Returns
    -------
    numpy.ndarray
        ``n`` samples at unit RMS.

    Example
    -------
    >>> x = background(np.random.default_rng(0), 4410, 44100)
    >>> round(float(np.sqrt(np.mean(x**2))), 3)
    1.0
    """
    u = rng.uniform
    dur = n / sr
    x = dsp.shaped_noise(rng, n, sr, u(0.8, 2.0), u(20, 60), u(1500, 6000))
    swells = np.full(n, u(0.2, 0.6))
    for _ in range(rng.integers(0, 5)):
        swells += u(0.5, 2.0) * dsp.swell(n, sr, u(0, dur), u(0.5, 2.0))
    tyre = dsp.shaped_noise(rng, n, sr, u(0.3, 1.2), u(150, 400), u(2000, 5000))
    x = x + u(0.3, 1.0) * tyre * swells
    if rng.random() < 0.3:  # wind gusts
        gust = np.maximum(0.0, dsp.smooth(rng, n, sr, u(0.3, 1.5), -0.5, 1.5))
        wind = dsp.shaped_noise(rng, n, sr, 2.0, 20.0, u(150, 500))
        x = x + u(0.5, 2.0) * wind * gust
    if rng.random() < 0.15:  # rain: hiss and drops
        hiss = dsp.shaped_noise(rng, n, sr, 0.0, u(800, 2000), u(8000, 14000))
        imp = dsp.impulses(rng, n, sr, u(20, 80), jitter=0.8, amp_sd=0.7)
        drops = dsp.filt(imp * rng.standard_normal(n), "highpass", 2000.0, sr)
        x = x + u(0.2, 0.8) * hiss + u(0.2, 1.0) * dsp.unit(drops)
    x = x + 0.01 * dsp.noise(rng, n)  # sensor self-noise
    return dsp.unit(x)


def _birds(rng, n, sr):
    u = rng.uniform
    x = np.zeros(n)
    t = u(0, 1.0)
    f_base = u(2000, 6000)
    while t < n / sr:
        for _ in range(rng.integers(1, 6)):
            d = u(0.04, 0.2)
            m = int(d * sr)
            tt = np.arange(m) / sr
            f = f_base * (1 + u(-0.4, 0.4) * tt / d)
            c = np.sin(TWO_PI * np.cumsum(f) / sr) * np.sin(np.pi * tt / d)
            dsp.place(x, c, int(t * sr))
            t += d + u(0.03, 0.15)
        t += u(0.3, 2.5)
    return x


def _hvac(rng, n, sr):
    u = rng.uniform
    t = np.arange(n) / sr
    mains = rng.choice([50.0, 60.0]) * rng.choice([1, 2])
    x = np.zeros(n)
    for k in range(1, 6):
        x += u(0.1, 1.0) / k * np.sin(TWO_PI * mains * k * t + u(0, TWO_PI))
    blade = u(80, 400)
    x += u(0.2, 1.0) * np.sin(TWO_PI * blade * t)
    fan = dsp.shaped_noise(rng, n, sr, 1.0, 50.0, u(800, 3000))
    return dsp.unit(x) + u(0.3, 1.5) * fan


def _clicks(rng, n, sr):
    imp = np.zeros(n)
    k = rng.integers(2, 30)
    pos = rng.integers(0, n, size=k)
    imp[pos] = rng.uniform(0.2, 1.0, size=k)
    ker = dsp.impact_kernel(
        rng, sr, 0.03, rng.uniform(200, 800), 0.005,
        rng.uniform(1000, 6000, size=2), 0.005, 0.003, 1000.0,
    )  # fmt: skip
    return signal.oaconvolve(imp, ker)[:n]


def _crossing_beeps(rng, n, sr):
    t = np.arange(n) / sr
    f = rng.uniform(700, 3000)
    rate = rng.uniform(0.8, 8.0)
    on = rng.uniform(0.05, 0.4)
    g = dsp.moving_average(((t * rate) % 1.0 < on).astype(float), 89)
    x = np.sin(TWO_PI * f * t) * g
    seg = rng.uniform(1.0, n / sr)
    start = rng.uniform(0, n / sr - seg + 1e-9)
    return x * dsp.gate(n, sr, [(start, seg)], 0.02)


def _rumble(rng, n, sr):
    x = dsp.shaped_noise(rng, n, sr, 1.5, 20.0, rng.uniform(100, 400))
    lvl = 10 ** (rng.uniform(3, 10) * dsp.smooth(rng, n, sr, 0.5) / 20)
    return x * lvl


def _squeal(rng, n, sr):
    t = np.arange(n) / sr
    d = rng.uniform(0.4, 2.0)
    f = rng.uniform(1500, 5000) * (1 + 0.02 * np.sin(TWO_PI * 6 * t))
    x = tone_from_freq(f, sr, 0.3)
    start = rng.uniform(0, max(0.0, n / sr - d))
    return x * dsp.gate(n, sr, [(start, d)], 0.05)


DISTRACTORS = {
    "birds": _birds,
    "hvac": _hvac,
    "clicks": _clicks,
    "crossing-beeps": _crossing_beeps,
    "rumble": _rumble,
    "squeal": _squeal,
}


# ----------------------------------------------------------------------------
# Mixer
# ----------------------------------------------------------------------------
@dataclass(frozen=True)
class MixConfig:
    """Difficulty knobs of the scene mixer (levels in dB).

    Arguments
    ---------
    snr_db : tuple
        Range of labelled-event SNRs, drawn uniformly: active RMS of the event
        over the RMS of the background bed. The low end makes hard events.
    background_dbfs : tuple
        Range of the background bed level in dBFS.
    distractor_rate : float
        Mean number (Poisson) of unlabelled distractors per clip.
    distractor_snr_db : tuple
        SNR range of the distractors.
    full_length_prob : float
        Probability that an event lasts the whole clip.
    min_event_s : float
        Shortest partial event in seconds.
    peak : float
        Peak ceiling (fraction of full scale) after mixing.

    Example
    -------
    >>> MixConfig().snr_db
    (-8.0, 14.0)
    """

    snr_db: tuple = (-8.0, 14.0)
    background_dbfs: tuple = (-44.0, -26.0)
    distractor_rate: float = 1.5
    distractor_snr_db: tuple = (-6.0, 10.0)
    full_length_prob: float = 0.4
    min_event_s: float = 1.5
    peak: float = 0.89


def active_rms(x, sr=SAMPLE_RATE, floor_db=20.0):
    """RMS over the frames within ``floor_db`` of the loudest frame.

    Arguments
    ---------
    x : numpy.ndarray
        Signal.
    sr : int
        Sample rate (frames are ~46 ms).
    floor_db : float
        Frames quieter than the loudest by more than this are ignored.

    Returns
    -------
    float

    Example
    -------
    >>> x = np.sin(2 * np.pi * 100 * np.arange(44100) / 44100)
    >>> x[22050:] *= 0.001  # a quiet half, ignored
    >>> 0.69 < active_rms(x) < 0.72  # the sine's RMS, 0.707
    True
    """
    hop = max(1, int(0.046 * sr))
    m = len(x) // hop
    if m == 0:
        return float(np.sqrt(np.mean(x * x)))
    e = np.mean(x[: m * hop].reshape(m, hop) ** 2, axis=1)
    keep = e >= e.max() * 10 ** (-floor_db / 10)
    return float(np.sqrt(np.mean(e[keep])))


def render_scene(rng, events, mix=None, sr=SAMPLE_RATE, seconds=CLIP_SECONDS):
    """Mix labelled events over a background and distractors.

    Arguments
    ---------
    rng : numpy.random.Generator
        Source of randomness (consumed in a fixed order: deterministic).
    events : list of dict
        Each with ``model`` (a ``SOUND_MODELS`` key), ``onset`` and
        ``duration`` (seconds) and ``snr_db``.
    mix : MixConfig or None
        Difficulty knobs; defaults to ``MixConfig()``.
    sr : int
        Sample rate.
    seconds : float
        Clip length.

    Returns
    -------
    audio : numpy.ndarray
        float32 samples in (-1, 1).
    distractors : list of str
        The distractors mixed in.

    Example
    -------
    >>> ev = [dict(model="dog", onset=0.1, duration=0.5, snr_db=6.0)]
    >>> rng = np.random.default_rng(0)
    >>> y, _ = render_scene(rng, ev, MixConfig(distractor_rate=0), seconds=1)
    >>> y.shape, y.dtype, bool(np.abs(y).max() < 1)
    ((44100,), dtype('float32'), True)
    """
    mix = mix or MixConfig()
    n = int(round(seconds * sr))
    bed = background(rng, n, sr)
    out = bed.copy()
    names = []
    for _ in range(rng.poisson(mix.distractor_rate)):
        name = str(rng.choice(sorted(DISTRACTORS)))
        d = synthesize(name, rng, n, sr)
        rms = active_rms(d, sr)
        if rms > 0:
            out += d * 10 ** (rng.uniform(*mix.distractor_snr_db) / 20) / rms
            names.append(name)
    for ev in events:
        a = int(round(ev["onset"] * sr))
        m = min(n - a, int(round(ev["duration"] * sr)))
        if m <= 0:
            continue
        x = dsp.fade(synthesize(ev["model"], rng, m, sr), sr)
        rms = active_rms(x, sr)
        if rms > 0:
            dsp.place(out, x * 10 ** (ev["snr_db"] / 20) / rms, a)
    out *= 10 ** (rng.uniform(*mix.background_dbfs) / 20)
    peak = np.max(np.abs(out))
    if peak > mix.peak:
        out *= mix.peak / peak
    return out.astype(np.float32), names
