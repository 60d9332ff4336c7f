"""Procedural urban sound models and the scene mixer of the demo corpus.

Every model is a function ``model(rng, n, sr)`` that returns ``n`` samples of
one sound event (float64, roughly unit level; the mixer sets the level). The
models are built from vectorised numpy/scipy blocks (phase accumulators,
shaped noise, impulse trains convolved with impact kernels, formant filters):
there is no per-sample Python loop, only loops over harmonics, notes, barks or
syllables.

The sounds are repetitive the way urban sounds are (firing rates, periodic
impacts, siren sweeps, beeper cycles, melodies over a beat, syllable rhythm,
bark bouts), and every parameter (pitch, rate, timbre, duration, level) is
drawn from wide, overlapping ranges so that no class is one frequency band.

``render_scene`` mixes labelled events over an urban background (traffic with
passing swells, wind, rain) plus unlabelled distractors that mimic the classes'
bands (birds, HVAC hum, clicks, crossing-signal beeps, distant rumble, brake
squeal). Its difficulty knobs are the fields of :class:`MixConfig`.

Authors
 * speechbrain-iusp developers 2026
"""

import functools
from dataclasses import dataclass

import numpy as np
from scipy import signal

SAMPLE_RATE = 44100
CLIP_SECONDS = 10.0

TWO_PI = 2.0 * np.pi


# ----------------------------------------------------------------------------
# Building blocks
# ----------------------------------------------------------------------------
def _unit(x):
    """Scale to unit RMS (zeros stay zeros)."""
    rms = np.sqrt(np.mean(x * x))
    return x / rms if rms > 1e-12 else x


def _sos(kind, freqs, sr, order=2):
    """Butterworth second-order sections, frequencies clipped to (20, nyq)."""
    nyq = sr / 2.0
    freqs = np.clip(np.atleast_1d(freqs), 20.0, 0.95 * nyq)
    wn = freqs[0] if kind in ("lowpass", "highpass") else freqs
    return signal.butter(order, wn, btype=kind, fs=sr, output="sos")


def _filt(x, kind, freqs, sr, order=2):
    return signal.sosfilt(_sos(kind, freqs, sr, order), x)


def _noise(rng, n):
    return rng.standard_normal(n)


@functools.lru_cache(maxsize=8)
def _rfft_freqs(n, sr):
    """Positive FFT frequencies (DC set to the first bin) and their logs."""
    f = np.fft.rfftfreq(n, 1.0 / sr)
    f[0] = f[1]
    return f, np.log(f)


def _shaped_noise(rng, n, sr, alpha=1.0, lo=20.0, hi=None):
    """Noise with a 1/f**alpha power spectrum between lo and hi (unit RMS)."""
    nf = n // 2 + 1
    spec = rng.standard_normal(2 * nf).view(np.complex128)
    f, logf = _rfft_freqs(n, sr)
    gain = np.exp((-alpha / 2.0) * logf)
    r = lo / f
    r *= r
    r *= r
    r += 1.0
    gain /= r
    if hi is not None:
        r = f / hi
        r *= r
        r *= r
        r += 1.0
        gain /= r
    spec *= gain
    spec[0] = 0.0
    return _unit(np.fft.irfft(spec, n))


def _smooth(rng, n, sr, rate, lo=-1.0, hi=1.0):
    """A smooth random control signal: random points at ``rate`` Hz."""
    k = int(np.ceil(n / sr * rate)) + 2
    pts = rng.uniform(lo, hi, k)
    return np.interp(np.linspace(0.0, k - 2.0, n), np.arange(k), pts)


def _moving_average(x, width):
    """Moving average of odd ``width`` samples (cumulative-sum, O(n))."""
    width = max(1, int(width))
    if width == 1:
        return x
    c = np.cumsum(np.concatenate([np.zeros(width), x, np.zeros(width)]))
    out = (c[width:] - c[:-width]) / width
    half = width // 2
    return out[half : half + len(x)]


def _gate(n, sr, segments, ramp=0.01):
    """0/1 gate over ``(start_s, dur_s)`` segments with smoothed edges."""
    g = np.zeros(n)
    for start, dur in segments:
        a = max(0, int(start * sr))
        b = min(n, int((start + dur) * sr))
        if b > a:
            g[a:b] = 1.0
    return _moving_average(g, int(ramp * sr) | 1)


def _bouts(rng, n, sr, on=(1.0, 4.0), off=(0.3, 2.0)):
    """Gate of working bouts separated by pauses."""
    segs, t = [], -rng.uniform(0.0, on[1])
    while t < n / sr:
        d = rng.uniform(*on)
        segs.append((t, d))
        t += d + rng.uniform(*off)
    return _gate(n, sr, segs, ramp=0.02)


def _cycles(freq, sr):
    """Accumulated cycles of a frequency track (phase / 2 pi)."""
    return np.cumsum(freq) / sr


def _fade(x, sr, t_in=0.02, t_out=0.05):
    n = len(x)
    a = min(n // 2, max(1, int(t_in * sr)))
    b = min(n // 2, max(1, int(t_out * sr)))
    x = x.copy()
    x[:a] *= 0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, a))
    x[n - b :] *= 0.5 + 0.5 * np.cos(np.linspace(0.0, np.pi, b))
    return x


def _swell(n, sr, centre, width, floor=0.0):
    """Gaussian level swell (a source passing by), computed near its peak."""
    out = np.full(n, float(floor))
    a = max(0, int((centre - 5.0 * width) * sr))
    b = min(n, int((centre + 5.0 * width) * sr) + 1)
    if b > a:
        t = (np.arange(a, b) / sr - centre) / width
        out[a:b] += (1.0 - floor) * np.exp(-0.5 * t * t)
    return out


def _level_envelope(rng, n, sr):
    """Steady, slowly varying or passing-by level over an event."""
    dur = n / sr
    kind = rng.choice(["steady", "vary", "pass"], p=[0.4, 0.35, 0.25])
    if kind == "steady":
        return np.ones(n)
    if kind == "vary":
        return 10.0 ** (rng.uniform(2.0, 6.0) * _smooth(rng, n, sr, 0.5) / 20)
    width = rng.uniform(0.2, 0.5) * dur
    return _swell(n, sr, rng.uniform(0.3, 0.7) * dur, width, floor=0.15)


def _place(out, x, start):
    """Add ``x`` into ``out`` at sample ``start`` (cropped at both ends)."""
    a = max(0, start)
    b = min(len(out), start + len(x))
    if b > a:
        out[a:b] += x[a - start : b - start]


def _impulses(rng, n, sr, rate, jitter=0.05, amp_sd=0.2, drift=0.05):
    """Impulse train at ``rate`` Hz with timing jitter and amplitude spread."""
    count = int(n / sr * rate * 1.5) + 4
    period = 1.0 / rate
    iv = period * (1.0 + jitter * rng.standard_normal(count))
    iv *= 1.0 + drift * _smooth(rng, count, 1.0, 0.2)
    iv = np.maximum(iv, 0.3 * period)
    times = np.cumsum(iv) - rng.uniform(0.0, period)
    times = times[(times >= 0.0) & (times < n / sr)]
    imp = np.zeros(n)
    amps = np.clip(1.0 + amp_sd * rng.standard_normal(len(times)), 0.2, 2.5)
    np.add.at(imp, (times * sr).astype(int), amps)
    return imp


def _impact_kernel(
    rng,
    sr,
    dur,
    thud_hz,
    thud_decay,
    rings,
    ring_decay,
    noise_decay,
    noise_hp,
    mix=(1.0, 1.0, 1.0),
):
    """One impact: a low decaying thud, metallic rings and a noise burst."""
    m = max(8, int(dur * sr))
    t = np.arange(m) / sr
    drop = 1.0 - rng.uniform(0.0, 0.3) * (1.0 - np.exp(-t / 0.05))
    k = mix[0] * np.sin(TWO_PI * thud_hz * t * drop) * np.exp(-t / thud_decay)
    for fr in rings:
        dec = ring_decay * rng.uniform(0.5, 1.5)
        amp = rng.uniform(0.3, 1.0) * mix[1]
        k += (
            amp
            * np.sin(TWO_PI * fr * t + rng.uniform(0, TWO_PI))
            * np.exp(-t / dec)
        )
    nz = _filt(rng.standard_normal(m), "highpass", noise_hp, sr)
    k += mix[2] * nz * np.exp(-t / noise_decay)
    k[: int(0.0005 * sr) + 1] *= np.linspace(0.0, 1.0, int(0.0005 * sr) + 1)
    return k / (np.max(np.abs(k)) + 1e-12)


def _resonate(x, sr, freq, q, gain):
    """Add a resonant band (body/muffler/horn) to ``x``."""
    bw = freq / q
    return x + gain * _filt(x, "bandpass", [freq - bw / 2, freq + bw / 2], sr)


def _formant_sos(formants, bandwidths, sr):
    """Cascade of two-pole resonators, unit gain at each formant peak."""
    rows = []
    for f, bw in zip(formants, bandwidths, strict=True):
        f = min(f, 0.45 * sr)
        r = np.exp(-np.pi * bw / sr)
        theta = TWO_PI * f / sr
        a1, a2 = -2.0 * r * np.cos(theta), r * r
        g = abs(1.0 + a1 * np.exp(-1j * theta) + a2 * np.exp(-2j * theta))
        rows.append([g, 0.0, 0.0, 1.0, a1, a2])
    return np.array(rows)


# Vowel formants (F1, F2, F3) of an adult male voice, in Hz.
VOWELS = np.array(
    [
        [730, 1090, 2440],
        [270, 2290, 3010],
        [300, 870, 2240],
        [530, 1840, 2480],
        [570, 840, 2410],
        [660, 1720, 2410],
        [490, 1350, 1690],
        [440, 1020, 2240],
    ],
    dtype=float,
)


# ----------------------------------------------------------------------------
# 1 engine
# ----------------------------------------------------------------------------
_ENGINE = {  # firing-rate range (Hz), low-pass range (Hz), resonance range
    "small": ((38.0, 95.0), (1800.0, 6000.0), (200.0, 700.0)),
    "medium": ((22.0, 55.0), (1000.0, 3500.0), (120.0, 450.0)),
    "large": ((11.0, 34.0), (450.0, 1800.0), (60.0, 250.0)),
}


def engine(rng, n, sr, size="medium"):
    """Combustion engine: firing pulses, uneven cylinders, combustion noise.

    Arguments
    ---------
    rng : numpy.random.Generator
        Source of randomness.
    n : int
        Number of samples.
    sr : int
        Sample rate.
    size : str
        ``small``, ``medium`` or ``large``: lower firing rate, darker timbre
        and more low end as the size grows (the ranges overlap).

    Returns
    -------
    numpy.ndarray
        ``n`` samples.

    Example
    -------
    >>> x = engine(np.random.default_rng(0), 4410, 44100, "large")
    >>> x.shape, bool(np.isfinite(x).all())
    ((4410,), True)
    """
    f0_r, lp_r, res_r = _ENGINE[size]
    f0 = rng.uniform(*f0_r)
    rev = np.zeros(n)
    for _ in range(rng.integers(0, 3)):
        rev += rng.uniform(0.1, 0.6) * _swell(
            n, sr, rng.uniform(0, n / sr), rng.uniform(0.3, 1.5)
        )
    freq = f0 * (1.0 + 0.04 * _smooth(rng, n, sr, 0.8)) * (1.0 + rev)
    cyc = _cycles(freq, sr)
    frac = cyc % 1.0
    width = rng.uniform(0.012, 0.06)
    pulse = np.exp(-0.5 * ((frac - 0.5) / width) ** 2)
    ncyl = rng.choice([2, 3, 4, 6])
    uneven = 1.0 + rng.uniform(0.05, 0.4) * np.cos(
        TWO_PI * cyc / ncyl + rng.uniform(0, TWO_PI)
    )
    shimmer = 1.0 + rng.uniform(0.05, 0.3) * _smooth(rng, n, sr, f0 * 0.7)
    src = pulse * uneven * shimmer
    src -= src.mean()
    noise = _noise(rng, n) * (0.2 + pulse) * rng.uniform(0.1, 0.6)
    x = _unit(src) + noise
    x = _filt(x, "lowpass", rng.uniform(*lp_r) * (1.0 + 0.5 * rev.mean()), sr)
    x = _resonate(
        x, sr, rng.uniform(*res_r), rng.uniform(2, 6), rng.uniform(1, 4)
    )
    if size == "large" or rng.random() < 0.3:
        rumble = _filt(_noise(rng, n), "lowpass", rng.uniform(50, 110), sr, 4)
        x = _unit(x) + rng.uniform(0.2, 0.8) * _unit(rumble)
    if size == "small" and rng.random() < 0.5:  # scooter/motorbike rasp
        x = _unit(x) + 0.3 * _unit(_filt(noise, "highpass", 2000.0, sr))
    return _unit(x) * _level_envelope(rng, n, sr)


# ----------------------------------------------------------------------------
# 2 machinery impact
# ----------------------------------------------------------------------------
def machinery_impact(rng, n, sr, kind="jackhammer"):
    """Periodic impacts with class-specific rates and kernels.

    Arguments
    ---------
    rng : numpy.random.Generator
        Source of randomness.
    n : int
        Number of samples.
    sr : int
        Sample rate.
    kind : str
        ``jackhammer`` (~14-26 Hz, short metallic hits, exhaust hiss, bouts),
        ``rock-drill`` (faster ~28-55 Hz, smoother, motor hum), ``hoe-ram``
        (~5-12 Hz heavy hits over a diesel) or ``pile-driver`` (~0.5-2 Hz heavy
        thuds with a long ring).

    Returns
    -------
    numpy.ndarray
        ``n`` samples.

    Example
    -------
    >>> x = machinery_impact(np.random.default_rng(0), 8820, 44100)
    >>> x.shape
    (8820,)
    """
    u = rng.uniform
    if kind == "jackhammer":
        rate = u(14.0, 26.0)
        ker = _impact_kernel(
            rng, sr, u(0.02, 0.045), u(120, 400), 0.012,
            u(700, 3800, size=rng.integers(2, 5)), u(0.006, 0.02),
            u(0.003, 0.01), u(800, 3000), (u(0.3, 1.0), 1.0, u(0.5, 1.5)),
        )  # fmt: skip
        imp = _impulses(rng, n, sr, rate, jitter=0.06, amp_sd=0.25)
        x = signal.oaconvolve(imp, ker)[:n]
        hiss = _filt(_noise(rng, n), "bandpass", [u(1500, 3000), 9000.0], sr)
        x = _unit(x) + u(0.1, 0.5) * hiss * (0.5 + _moving_average(imp, 200))
        gate = _bouts(rng, n, sr, on=(0.8, 4.0), off=(0.2, 1.5))
    elif kind == "rock-drill":
        rate = u(28.0, 55.0)
        ker = _impact_kernel(
            rng, sr, u(0.015, 0.03), u(150, 500), 0.006,
            u(500, 3000, size=rng.integers(2, 4)), u(0.004, 0.01),
            u(0.002, 0.006), u(600, 2000), (u(0.5, 1.0), 1.0, u(0.3, 1.0)),
        )  # fmt: skip
        imp = _impulses(rng, n, sr, rate, jitter=0.02, amp_sd=0.08)
        x = signal.oaconvolve(imp, ker)[:n]
        f_m = u(90, 220) * (1.0 + 0.03 * _smooth(rng, n, sr, 1.0))
        frac = _cycles(f_m, sr) % 1.0
        motor = _filt(1.0 - 2.0 * frac, "lowpass", u(800, 2500), sr)
        x = _unit(x) + u(0.1, 0.4) * _unit(motor)
        gate = _bouts(rng, n, sr, on=(1.5, 6.0), off=(0.3, 1.5))
    elif kind == "hoe-ram":
        rate = u(5.0, 12.0)
        ker = _impact_kernel(
            rng, sr, u(0.06, 0.14), u(70, 200), u(0.03, 0.06),
            u(350, 1600, size=rng.integers(2, 5)), u(0.02, 0.06),
            u(0.005, 0.02), u(400, 1500), (1.0, u(0.5, 1.0), u(0.3, 1.0)),
        )  # fmt: skip
        imp = _impulses(rng, n, sr, rate, jitter=0.04, amp_sd=0.2)
        x = signal.oaconvolve(imp, ker)[:n]
        x = _unit(x) + u(0.1, 0.4) * engine(rng, n, sr, "large")
        gate = _bouts(rng, n, sr, on=(1.0, 5.0), off=(0.3, 2.0))
    elif kind == "pile-driver":
        rate = u(0.5, 2.0)
        ker = _impact_kernel(
            rng, sr, u(0.4, 0.9), u(30, 90), u(0.08, 0.2),
            u(200, 1300, size=rng.integers(3, 7)), u(0.15, 0.5),
            u(0.01, 0.04), u(300, 1200), (1.0, u(0.4, 1.0), u(0.4, 1.0)),
        )  # fmt: skip
        imp = _impulses(rng, n, sr, rate, jitter=0.03, amp_sd=0.1)
        x = signal.oaconvolve(imp, ker)[:n]
        gate = np.ones(n)
    else:
        raise ValueError(f"Unknown machinery impact kind '{kind}'")
    return _unit(x * gate) * _level_envelope(rng, n, sr)


# ----------------------------------------------------------------------------
# 3 non-machinery impact
# ----------------------------------------------------------------------------
def non_machinery_impact(rng, n, sr):
    """A few irregular single impacts: door slams, bangs, drops.

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
        ``n`` samples.

    Example
    -------
    >>> x = non_machinery_impact(np.random.default_rng(1), 22050, 44100)
    >>> x.shape
    (22050,)
    """
    u = rng.uniform
    x = np.zeros(n)
    count = rng.integers(1, 6)
    for _ in range(count):
        kind = rng.choice(["slam", "bang", "drop"])
        if kind == "slam":
            ker = _impact_kernel(
                rng, sr, u(0.15, 0.4), u(50, 150), u(0.03, 0.08),
                u(150, 700, size=3), u(0.02, 0.08), u(0.005, 0.02),
                u(500, 2000), (1.0, u(0.3, 0.8), u(0.2, 0.8)),
            )  # fmt: skip
        elif kind == "bang":
            ker = _impact_kernel(
                rng, sr, u(0.1, 0.5), u(80, 300), u(0.01, 0.04),
                u(400, 4000, size=rng.integers(2, 6)), u(0.03, 0.2),
                u(0.005, 0.03), u(200, 1500), (u(0.3, 1), 1.0, u(0.5, 1.5)),
            )  # fmt: skip
        else:
            ker = _impact_kernel(
                rng, sr, u(0.05, 0.2), u(100, 400), u(0.01, 0.03),
                u(800, 5000, size=rng.integers(1, 4)), u(0.01, 0.05),
                u(0.002, 0.01), u(1000, 4000), (u(0.2, 0.8), 1.0, 1.0),
            )  # fmt: skip
        ker *= u(0.3, 1.0)
        start = int(u(0.0, max(1.0, n - 0.1 * sr)))
        _place(x, ker, start)
        if rng.random() < 0.3:  # rattle / double hit
            _place(x, 0.5 * ker, start + int(u(0.03, 0.15) * sr))
    return x / (np.max(np.abs(x)) + 1e-12)


# ----------------------------------------------------------------------------
# 4 powered saw
# ----------------------------------------------------------------------------
def _throttle(rng, n, sr, hold=(0.8, 3.0), rest=(0.3, 1.5), rise=0.15):
    """Throttle/load pattern in [0, 1]: rests and held revs or cuts."""
    segs, t = [], rng.uniform(-1.0, 0.5)
    while t < n / sr:
        t += rng.uniform(*rest)
        d = rng.uniform(*hold)
        segs.append((t, d))
        t += d
    g = np.zeros(n)
    for start, dur in segs:
        a, b = max(0, int(start * sr)), min(n, int((start + dur) * sr))
        if b > a:
            g[a:b] = rng.uniform(0.6, 1.0)
    return _moving_average(g, int(rise * sr) | 1)


def powered_saw(rng, n, sr, kind="chainsaw"):
    """Chainsaw buzz with rpm swells, or rotating-saw whine with load drops.

    Arguments
    ---------
    rng : numpy.random.Generator
        Source of randomness.
    n : int
        Number of samples.
    sr : int
        Sample rate.
    kind : str
        ``chainsaw``, ``small-medium-rotating`` or ``large-rotating``.

    Returns
    -------
    numpy.ndarray
        ``n`` samples.

    Example
    -------
    >>> x = powered_saw(np.random.default_rng(0), 4410, 44100, "chainsaw")
    >>> x.shape
    (4410,)
    """
    u = rng.uniform
    if kind == "chainsaw":
        thr = _throttle(rng, n, sr)
        f_idle, f_max = u(40, 65), u(120, 220)
        freq = f_idle + thr * (f_max - f_idle)
        freq *= 1.0 + 0.02 * _smooth(rng, n, sr, 3.0)
        frac = _cycles(freq, sr) % 1.0
        duty = u(0.15, 0.4)
        src = (frac < duty).astype(float) - duty
        rough = 1.0 + u(0.2, 0.5) * _smooth(rng, n, sr, 250.0)
        x = _unit(src * rough) + u(0.2, 0.6) * _noise(rng, n) * (0.3 + thr)
        x = _filt(x, "highpass", u(80, 200), sr)
        x = _resonate(x, sr, u(500, 1600), u(2, 5), u(1, 4))
        x = _filt(x, "lowpass", u(3000, 8000), sr)
        level = 0.35 + thr
    else:
        large = kind == "large-rotating"
        f0 = u(45, 120) if large else u(140, 420)
        load = _throttle(
            rng, n, sr, hold=(1.5, 4.0) if large else (0.6, 2.5), rise=0.25
        )
        spin = 1.0 - np.exp(-np.arange(n) / sr / u(0.1, 0.6))
        if rng.random() < 0.5:
            spin = np.ones(n)
        drop = u(0.1, 0.35)
        freq = f0 * spin * (1.0 - drop * load)
        cyc = _cycles(freq, sr)
        teeth = rng.integers(8, 40) if large else rng.integers(4, 24)
        x = np.zeros(n)
        for m, amp in ((1, 1.0), (2, u(0.3, 0.8)), (3, u(0.1, 0.5))):
            x += amp * np.sin(TWO_PI * m * cyc)
        for m in (teeth, 2 * teeth):
            x += u(0.3, 1.2) * np.sin(TWO_PI * m * cyc + u(0, TWO_PI))
        lo, hi = (1000.0, 6000.0) if large else (2000.0, 10000.0)
        cut = _filt(_noise(rng, n), "bandpass", [u(lo * 0.5, lo), hi], sr)
        x = _unit(x) + u(0.4, 1.5) * load * cut
        level = 0.6 + 0.6 * load
    return _unit(x * level) * _level_envelope(rng, n, sr)


# ----------------------------------------------------------------------------
# 5 alert signal
# ----------------------------------------------------------------------------
def _tone_from_freq(freq, sr, bright=0.5):
    """Rich tone from a frequency track (soft-clipped sine)."""
    s = np.sin(TWO_PI * _cycles(freq, sr))
    drive = 1.0 + 8.0 * bright
    return np.tanh(drive * s) / np.tanh(drive)


def alert_signal(rng, n, sr, kind="siren"):
    """Car horn, car alarm, siren or reverse beeper.

    Arguments
    ---------
    rng : numpy.random.Generator
        Source of randomness.
    n : int
        Number of samples.
    sr : int
        Sample rate.
    kind : str
        ``car-horn`` (two-tone honks), ``car-alarm`` (cycling patterns),
        ``siren`` (wail, yelp or hi-lo sweeps) or ``reverse-beeper``
        (periodic ~1 kHz beeps).

    Returns
    -------
    numpy.ndarray
        ``n`` samples.

    Example
    -------
    >>> x = alert_signal(np.random.default_rng(0), 4410, 44100, "car-horn")
    >>> x.shape
    (4410,)
    """
    u = rng.uniform
    dur = n / sr
    t = np.arange(n) / sr
    if kind == "car-horn":
        f1 = u(330, 520)
        f2 = f1 * u(1.12, 1.32)
        duty = u(0.25, 0.5)
        x = np.zeros(n)
        for f in (f1, f2):
            frac = _cycles(np.full(n, f), sr) % 1.0 + u(0, 1)
            x += ((frac % 1.0) < duty).astype(float) - duty
        x = _resonate(x, sr, u(1500, 3200), 3.0, u(1, 3))
        x = _filt(x, "lowpass", u(3000, 7000), sr)
        segs, t0 = [], u(0.0, 0.3 * dur)
        for _ in range(rng.integers(1, 5)):
            d = u(0.15, 1.6) if rng.random() < 0.8 else u(1.5, 3.5)
            segs.append((t0, d))
            t0 += d + u(0.1, 1.2)
        x = x * _gate(n, sr, segs, ramp=0.008)
    elif kind == "car-alarm":
        pattern_f = []
        base = u(1200, 3000)
        for _ in range(rng.integers(2, 5)):
            mode = rng.choice(["chirp", "warble", "beep", "wail"])
            seg = int(u(1.2, 3.0) * sr)
            ts = np.arange(seg) / sr
            if mode == "chirp":
                per = u(0.08, 0.25)
                f = base * (0.6 + 0.8 * ((ts / per) % 1.0))
                g = np.ones(seg)
            elif mode == "warble":
                rate = u(4, 12)
                f = base * np.where((ts * rate) % 1.0 < 0.5, 1.0, u(0.6, 0.85))
                g = np.ones(seg)
            elif mode == "beep":
                rate = u(2, 6)
                f = np.full(seg, base * u(0.8, 1.2))
                g = ((ts * rate) % 1.0 < 0.5).astype(float)
            else:
                per = u(0.5, 1.5)
                f = base * (0.7 + 0.5 * (0.5 - 0.5 * np.cos(TWO_PI * ts / per)))
                g = np.ones(seg)
            pattern_f.append((f, g))
        fcycle = np.concatenate([p[0] for p in pattern_f])
        gcycle = np.concatenate([p[1] for p in pattern_f])
        reps = int(np.ceil(n / len(fcycle))) + 1
        off = rng.integers(0, len(fcycle))
        f = np.tile(fcycle, reps)[off : off + n]
        g = _moving_average(np.tile(gcycle, reps)[off : off + n], 89)
        x = _tone_from_freq(f, sr, u(0.3, 1.0)) * g
    elif kind == "siren":
        mode = rng.choice(["wail", "yelp", "hilo"], p=[0.45, 0.35, 0.2])
        lo, hi = u(450, 850), u(1100, 1800)
        if mode == "wail":
            per = u(2.5, 7.0)
            ph = t / per + u(0, 1)
            f = lo + (hi - lo) * (0.5 - 0.5 * np.cos(TWO_PI * ph))
        elif mode == "yelp":
            per = u(0.15, 0.45)
            f = lo + (hi - lo) * (((t / per) + u(0, 1)) % 1.0) ** u(0.6, 1.0)
        else:
            rate = u(0.8, 2.0)
            f = np.where((t * rate) % 1.0 < 0.5, lo, lo * u(1.25, 1.45))
            f = _moving_average(f, 221)
        if rng.random() < 0.3:  # switches between patterns
            f = np.where(t > u(0.3, 0.7) * dur, lo + (f - lo) * 0.9, f)
        doppler = 1.0 + u(0.0, 0.04) * np.tanh((t - u(0, dur)) / u(0.5, 2.0))
        x = _tone_from_freq(f * doppler, sr, u(0.1, 0.7))
        x = _filt(x, "lowpass", u(3000, 8000), sr)
    elif kind == "reverse-beeper":
        f = u(850, 1350)
        on_t, per = u(0.3, 0.6), u(0.75, 1.3)
        x = np.sin(TWO_PI * f * t) + u(0.05, 0.4) * np.sin(TWO_PI * 3 * f * t)
        if rng.random() < 0.2:  # broadband ("white noise") beeper
            x = _filt(_noise(rng, n), "bandpass", [f * 0.5, f * 3], sr)
        g = ((t + u(0, per)) % per < on_t).astype(float)
        x = x * _moving_average(g, 133)
    else:
        raise ValueError(f"Unknown alert signal kind '{kind}'")
    return _unit(x) * _level_envelope(rng, n, sr)


# ----------------------------------------------------------------------------
# 6 music
# ----------------------------------------------------------------------------
_TABLE = 2048
_MAJOR = np.array([0, 2, 4, 5, 7, 9, 11])
_MINOR = np.array([0, 2, 3, 5, 7, 8, 10])


def _wavetable(rng, odd_only=False, bright=0.5):
    """One cycle of a random harmonic timbre."""
    ph = np.arange(_TABLE) / _TABLE
    w = np.zeros(_TABLE)
    for k in range(1, 13):
        if odd_only and k % 2 == 0:
            continue
        amp = rng.uniform(0.3, 1.0) / k ** (2.0 - 1.5 * bright)
        w += amp * np.sin(TWO_PI * k * ph + rng.uniform(0, TWO_PI))
    return w / np.max(np.abs(w))


def _note(table, freq, dur, sr, decay, vib=0.0, vib_rate=5.0):
    m = max(16, int(dur * sr))
    t = np.arange(m) / sr
    f = freq * (1.0 + vib * np.sin(TWO_PI * vib_rate * t))
    idx = (np.cumsum(f) / sr * _TABLE).astype(np.int64) % _TABLE
    env = np.minimum(1.0, t / 0.01) * np.exp(-t / decay)
    env[-min(m, int(0.01 * sr)) :] *= np.linspace(1, 0, min(m, int(0.01 * sr)))
    return table[idx] * env


def _drum(rng, sr, kind):
    u = rng.uniform
    if kind == "kick":
        m = int(0.25 * sr)
        t = np.arange(m) / sr
        f = u(40, 60) + u(60, 120) * np.exp(-t / 0.03)
        return np.sin(TWO_PI * np.cumsum(f) / sr) * np.exp(-t / u(0.06, 0.15))
    if kind == "snare":
        m = int(0.2 * sr)
        t = np.arange(m) / sr
        nz = _filt(rng.standard_normal(m), "bandpass", [u(800, 2000), 8000], sr)
        tone = np.sin(TWO_PI * u(150, 250) * t)
        return (nz + 0.5 * tone) * np.exp(-t / u(0.04, 0.1))
    m = int(0.06 * sr)
    t = np.arange(m) / sr
    nz = _filt(rng.standard_normal(m), "highpass", u(6000, 9000), sr)
    return nz * np.exp(-t / u(0.01, 0.03))


def music(rng, n, sr, kind="stationary"):
    """Melody over chords with bass and drums, or an ice-cream-truck jingle.

    Arguments
    ---------
    rng : numpy.random.Generator
        Source of randomness.
    n : int
        Number of samples.
    sr : int
        Sample rate.
    kind : str
        ``stationary`` (street/store music), ``mobile`` (car stereo: bass
        heavy, muffled, often passing by) or ``ice-cream-truck`` (a looping
        music-box jingle, no drums).

    Returns
    -------
    numpy.ndarray
        ``n`` samples.

    Example
    -------
    >>> x = music(np.random.default_rng(0), 22050, 44100, "ice-cream-truck")
    >>> x.shape
    (22050,)
    """
    u = rng.uniform
    dur = n / sr
    x = np.zeros(n)
    root = 110.0 * 2 ** (rng.integers(0, 12) / 12.0)
    if kind == "ice-cream-truck":
        scale = _MAJOR
        table = _wavetable(rng, odd_only=rng.random() < 0.6, bright=u(0.6, 1))
        beat = 60.0 / u(120, 200)
        steps = rng.integers(0, 10, size=rng.integers(8, 17))
        lengths = rng.choice([1, 1, 1, 2], size=len(steps))
        tune_dur = beat * lengths.sum()
        gap = u(0.0, 1.5)
        t0 = -u(0, tune_dur)
        vib = u(0.0, 0.01)
        while t0 < dur:
            tn = t0
            for s, ln in zip(steps, lengths, strict=True):
                f = root * 4 * 2 ** ((scale[s % 7] + 12 * (s // 7)) / 12.0)
                note = _note(table, f, beat * ln * 0.95, sr, u(0.15, 0.5), vib)
                _place(x, note, int(tn * sr))
                tn += beat * ln
            t0 = tn + gap
        x = _filt(x, "bandpass", [u(300, 600), u(4000, 8000)], sr)
        return _unit(x) * _level_envelope(rng, n, sr)

    scale = _MAJOR if rng.random() < 0.6 else _MINOR
    beat = 60.0 / u(70, 150)
    lead = _wavetable(rng, bright=u(0.2, 1.0))
    pad = _wavetable(rng, bright=u(0.0, 0.5))
    bass = _wavetable(rng, bright=u(0.0, 0.4))
    prog = rng.choice([0, 3, 4, 5, 1], size=4)
    drums = {k: _drum(rng, sr, k) for k in ("kick", "snare", "hat")}
    use_drums = rng.random() < 0.8
    t0 = -u(0, 4 * beat)
    bar = 0
    while t0 < dur:
        degree = prog[bar % 4]
        chord = [
            scale[(degree + i) % 7] + 12 * ((degree + i) // 7)
            for i in (0, 2, 4)
        ]
        for c in chord:
            f = root * 2 * 2 ** (c / 12.0)
            _place(
                x, 0.25 * _note(pad, f, 4 * beat, sr, 2 * beat), int(t0 * sr)
            )
        fb = root / 2 * 2 ** (chord[0] / 12.0)
        for b in range(4):
            nb = _note(bass, fb, beat * 0.9, sr, beat)
            _place(x, 0.6 * nb, int((t0 + b * beat) * sr))
        tn = t0
        while tn < t0 + 4 * beat:
            ln = beat * rng.choice([0.5, 0.5, 1.0, 1.5])
            if rng.random() < 0.85:
                s = rng.integers(0, 10)
                f = root * 4 * 2 ** ((scale[s % 7] + 12 * (s // 7)) / 12.0)
                nt = _note(lead, f, ln, sr, u(0.2, 1.0), u(0, 0.006))
                _place(x, 0.5 * nt, int(tn * sr))
            tn += ln
        if use_drums:
            for b in range(8):
                tb = int((t0 + b * beat / 2) * sr)
                if b % 4 == 0:
                    _place(x, 0.9 * drums["kick"], tb)
                if b % 4 == 2:
                    _place(x, 0.5 * drums["snare"], tb)
                _place(x, 0.2 * drums["hat"], tb)
        t0 += 4 * beat
        bar += 1
    if kind == "mobile":
        x = _unit(x) + u(0.5, 1.5) * _unit(_filt(x, "lowpass", 150.0, sr))
        x = _filt(x, "lowpass", u(600, 2500), sr)
    return _unit(x) * _level_envelope(rng, n, sr)


# ----------------------------------------------------------------------------
# 7 human voice
# ----------------------------------------------------------------------------
def _voice_source(rng, n, sr, f0, syl_rate, sustain, n_vowels, busy=0.7):
    """Glottal and frication sources and per-vowel weights of one talker.

    Returns (voiced source, unvoiced envelope, vowel weights (n_vowels, n)).
    """
    u = rng.uniform
    dur = n / sr
    voiced = np.zeros(n)
    unvoiced = np.zeros(n)
    weights = np.zeros((n_vowels, n))
    ctrl_t, ctrl_f = [0.0], [f0]
    t = -u(0.0, 1.0)
    while t < dur:
        phrase = u(0.6, 3.0)
        end = t + phrase
        f_start = f0 * u(1.0, 1.25)
        while t < end and t < dur:
            syl = u(0.6, 1.4) / syl_rate * sustain
            cons = u(0.03, 0.09)
            a, b = int((t + cons) * sr), int((t + syl * 0.9) * sr)
            if rng.random() < 0.5:
                ca, cb = max(0, int(t * sr)), min(n, a)
                if cb > ca:
                    unvoiced[ca:cb] = u(0.3, 1.0)
            a0, b0 = max(0, a), min(n, b)
            if b0 > a0:
                voiced[a0:b0] = u(0.5, 1.0)
                weights[rng.integers(0, n_vowels), a0:b0] = 1.0
            decl = 1.0 - 0.2 * (t - (end - phrase)) / phrase
            ctrl_t.append(t + syl / 2)
            ctrl_f.append(f_start * decl * u(0.85, 1.2))
            t += syl
        t = end + u(0.15, 1.0) / busy
    ctrl_t.append(dur)
    ctrl_f.append(f0)
    tt = np.arange(n) / sr
    freq = np.interp(tt, ctrl_t, ctrl_f)
    freq *= 1.0 + 0.01 * _smooth(rng, n, sr, 30.0)
    frac = _cycles(freq, sr) % 1.0
    glottal = 1.0 - 2.0 * frac
    width = int(0.025 * sr) | 1
    voiced = _moving_average(voiced, width)
    unvoiced = _moving_average(unvoiced, width)
    weights = np.stack(
        [_moving_average(w, int(0.04 * sr) | 1) for w in weights]
    )
    return glottal * voiced, unvoiced, weights


def _formant_mix(src, weights, vowels, scale, sr, bw_scale=1.0):
    out = np.zeros_like(src)
    for w, v in zip(weights, vowels, strict=True):
        sos = _formant_sos(v * scale, np.array([80, 110, 160]) * bw_scale, sr)
        out += w * signal.sosfilt(sos, src)
    return out


def human_voice(rng, n, sr, kind="talking"):
    """Formant speech-like babble: talking, shouting, crowd, amplified speech.

    Arguments
    ---------
    rng : numpy.random.Generator
        Source of randomness.
    n : int
        Number of samples.
    sr : int
        Sample rate.
    kind : str
        ``talking`` (1-3 talkers, ~4-5 syllables/s, pitch contours, unvoiced
        bursts), ``shouting`` (higher pitch, sustained vowels, brighter),
        ``crowd`` (many overlapped voices) or ``amplified`` (band-limited,
        distorted speech with echoes).

    Returns
    -------
    numpy.ndarray
        ``n`` samples.

    Example
    -------
    >>> x = human_voice(np.random.default_rng(0), 22050, 44100, "shouting")
    >>> x.shape
    (22050,)
    """
    u = rng.uniform
    n_v = 3
    if kind == "crowd":
        talkers, groups = rng.integers(5, 11), 3
    elif kind == "talking":
        talkers, groups = rng.integers(1, 4), None
    else:
        talkers, groups = 1 if rng.random() < 0.7 else 2, None
    shout = kind == "shouting" or (kind == "amplified" and rng.random() < 0.3)
    n_groups = groups or talkers
    srcs = [np.zeros(n) for _ in range(n_groups)]
    uvs = np.zeros(n)
    wts = [np.zeros((n_v, n)) for _ in range(n_groups)]
    for i in range(talkers):
        female = rng.random() < 0.5
        f0 = u(160, 260) if female else u(85, 150)
        if shout:
            f0 *= u(1.4, 2.0)
        rate = u(3.5, 6.0) if not shout else u(2.0, 4.0)
        sustain = u(1.5, 3.0) if shout else 1.0
        busy = 2.0 if kind == "crowd" else u(0.5, 1.2)
        v, uv, w = _voice_source(rng, n, sr, f0, rate, sustain, n_v, busy)
        gain = u(0.4, 1.0)
        srcs[i % n_groups] += gain * v
        uvs += gain * uv
        wts[i % n_groups] += w
    x = np.zeros(n)
    bright = 2.0 if shout else 1.0
    for src, w in zip(srcs, wts, strict=True):
        vowels = VOWELS[rng.choice(len(VOWELS), n_v, replace=False)]
        if shout:
            vowels = vowels * np.array([1.25, 1.05, 1.0])
        scale = u(0.9, 1.2)
        w = w / np.maximum(1.0, w.sum(axis=0))
        src = src + 0.5 * bright * _filt(src, "highpass", 1500.0, sr)
        x += _formant_mix(src, w, vowels, scale, sr)
    fric = _filt(_noise(rng, n), "bandpass", [u(2000, 3500), u(6000, 9000)], sr)
    x = _unit(x) + u(0.15, 0.5) * fric * uvs / (np.max(uvs) + 1e-9)
    if kind == "crowd":
        x = x + 0.5 * _unit(_moving_average(x, 5)) * u(0.2, 0.8)
        x = x * 10 ** (u(2, 6) * _smooth(rng, n, sr, 0.4) / 20)
    if kind == "amplified":
        x = _filt(x, "bandpass", [u(250, 500), u(2500, 4500)], sr)
        drive = u(1.5, 6.0)
        x = np.tanh(drive * _unit(x)) / np.tanh(drive)
        for _ in range(rng.integers(1, 3)):
            d = int(u(0.06, 0.4) * sr)
            x[d:] += u(0.2, 0.5) * x[:-d]
    return _unit(x) * _level_envelope(rng, n, sr)


# ----------------------------------------------------------------------------
# 8 dog
# ----------------------------------------------------------------------------
def dog(rng, n, sr):
    """Barks in bouts (short harmonic bursts with formants) and whines.

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
        ``n`` samples.

    Example
    -------
    >>> x = dog(np.random.default_rng(0), 22050, 44100)
    >>> x.shape
    (22050,)
    """
    u = rng.uniform
    dur = n / sr
    x = np.zeros(n)
    size = u(0.0, 1.0)  # 0 small dog .. 1 big dog
    f_bark = u(550, 950) - 350 * size
    formant = u(1200, 2200) - 700 * size
    whine_p = 0.25
    t = -u(0.0, 1.0)
    while t < dur:
        if rng.random() < whine_p:
            d = u(0.4, 1.5)
            m = int(d * sr)
            tt = np.arange(m) / sr
            f = u(500, 1400) * (1 + u(-0.2, 0.3) * np.sin(np.pi * tt / d))
            f *= 1 + 0.02 * np.sin(TWO_PI * u(4, 8) * tt)
            s = np.sin(TWO_PI * np.cumsum(f) / sr)
            s += u(0.1, 0.4) * np.sin(2 * TWO_PI * np.cumsum(f) / sr)
            s += 0.1 * rng.standard_normal(m)
            env = np.sin(np.pi * tt / d) ** 2
            _place(x, u(0.3, 0.7) * s * env, int(t * sr))
            t += d + u(0.3, 1.5)
            continue
        gap = u(0.2, 0.6)
        for _ in range(rng.integers(2, 8)):
            d = u(0.07, 0.25)
            m = int(d * sr)
            tt = np.arange(m) / sr
            f = (
                f_bark
                * u(0.85, 1.15)
                * (1 + 0.5 * np.sin(np.pi * tt / d) ** 0.5)
            )
            f *= 1 - 0.3 * tt / d
            frac = (np.cumsum(f) / sr) % 1.0
            s = (1.0 - 2.0 * frac) + u(0.3, 1.0) * rng.standard_normal(m)
            s = signal.sosfilt(
                _formant_sos([formant, formant * 1.9], [300, 500], sr), s
            )
            env = (1 - np.exp(-tt / 0.005)) * np.exp(-tt / (d * u(0.25, 0.5)))
            _place(x, u(0.6, 1.0) * s * env, int(t * sr))
            t += gap * u(0.8, 1.2)
        t += u(0.8, 3.0)
    x = _filt(x, "highpass", 150.0, sr)
    return x / (np.max(np.abs(x)) + 1e-12)


# ----------------------------------------------------------------------------
# Model registry
# ----------------------------------------------------------------------------
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
    x = _shaped_noise(rng, n, sr, u(0.8, 2.0), u(20, 60), u(1500, 6000))
    swells = np.full(n, u(0.2, 0.6))
    for _ in range(rng.integers(0, 5)):
        swells += u(0.5, 2.0) * _swell(n, sr, u(0, dur), u(0.5, 2.0))
    tyre = _shaped_noise(rng, n, sr, u(0.3, 1.2), u(150, 400), u(2000, 5000))
    x = x + u(0.3, 1.0) * tyre * swells
    if rng.random() < 0.3:  # wind gusts
        gust = np.maximum(0.0, _smooth(rng, n, sr, u(0.3, 1.5), -0.5, 1.5))
        wind = _shaped_noise(rng, n, sr, 2.0, 20.0, u(150, 500))
        x = x + u(0.5, 2.0) * wind * gust
    if rng.random() < 0.15:  # rain: hiss and drops
        hiss = _shaped_noise(rng, n, sr, 0.0, u(800, 2000), u(8000, 14000))
        imp = _impulses(rng, n, sr, u(20, 80), jitter=0.8, amp_sd=0.7)
        drops = _filt(imp * rng.standard_normal(n), "highpass", 2000.0, sr)
        x = x + u(0.2, 0.8) * hiss + u(0.2, 1.0) * _unit(drops)
    x = x + 0.01 * _noise(rng, n)  # sensor self-noise
    return _unit(x)


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
            _place(x, c, int(t * sr))
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
    fan = _shaped_noise(rng, n, sr, 1.0, 50.0, u(800, 3000))
    return _unit(x) + u(0.3, 1.5) * fan


def _clicks(rng, n, sr):
    imp = np.zeros(n)
    k = rng.integers(2, 30)
    pos = rng.integers(0, n, size=k)
    imp[pos] = rng.uniform(0.2, 1.0, size=k)
    ker = _impact_kernel(
        rng, sr, 0.03, rng.uniform(200, 800), 0.005,
        rng.uniform(1000, 6000, size=2), 0.005, 0.003, 1000.0,
    )  # fmt: skip
    return signal.oaconvolve(imp, ker)[:n]


def _crossing_beeps(rng, n, sr):
    t = np.arange(n) / sr
    f = rng.uniform(700, 3000)
    rate = rng.uniform(0.8, 8.0)
    on = rng.uniform(0.05, 0.4)
    g = _moving_average(((t * rate) % 1.0 < on).astype(float), 89)
    x = np.sin(TWO_PI * f * t) * g
    seg = rng.uniform(1.0, n / sr)
    start = rng.uniform(0, n / sr - seg + 1e-9)
    return x * _gate(n, sr, [(start, seg)], 0.02)


def _rumble(rng, n, sr):
    x = _shaped_noise(rng, n, sr, 1.5, 20.0, rng.uniform(100, 400))
    lvl = 10 ** (rng.uniform(3, 10) * _smooth(rng, n, sr, 0.5) / 20)
    return x * lvl


def _squeal(rng, n, sr):
    t = np.arange(n) / sr
    d = rng.uniform(0.4, 2.0)
    f = rng.uniform(1500, 5000) * (1 + 0.02 * np.sin(TWO_PI * 6 * t))
    x = _tone_from_freq(f, sr, 0.3)
    start = rng.uniform(0, max(0.0, n / sr - d))
    return x * _gate(n, sr, [(start, d)], 0.05)


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
        x = _fade(synthesize(ev["model"], rng, m, sr), sr)
        rms = active_rms(x, sr)
        if rms > 0:
            _place(out, x * 10 ** (ev["snr_db"] / 20) / rms, a)
    out *= 10 ** (rng.uniform(*mix.background_dbfs) / 20)
    peak = np.max(np.abs(out))
    if peak > mix.peak:
        out *= mix.peak / peak
    return out.astype(np.float32), names
