"""Signal building blocks of the demo sound models (vectorised numpy/scipy).

Phase accumulators, shaped noise, gates and bouts, impulse trains with
impact kernels, resonators and formant filters; no per-sample Python loop.

Authors
 * speechbrain-iusp developers 2026
"""

import functools

import numpy as np
from scipy import signal

SAMPLE_RATE = 44100
CLIP_SECONDS = 10.0

TWO_PI = 2.0 * np.pi


# ----------------------------------------------------------------------------
# Building blocks
# ----------------------------------------------------------------------------
def unit(x):
    """Scale to unit RMS (zeros stay zeros)."""
    rms = np.sqrt(np.mean(x * x))
    return x / rms if rms > 1e-12 else x


def sos(kind, freqs, sr, order=2):
    """Butterworth second-order sections, frequencies clipped to (20, nyq)."""
    nyq = sr / 2.0
    freqs = np.clip(np.atleast_1d(freqs), 20.0, 0.95 * nyq)
    wn = freqs[0] if kind in ("lowpass", "highpass") else freqs
    return signal.butter(order, wn, btype=kind, fs=sr, output="sos")


def filt(x, kind, freqs, sr, order=2):
    return signal.sosfilt(sos(kind, freqs, sr, order), x)


def noise(rng, n):
    return rng.standard_normal(n)


@functools.lru_cache(maxsize=8)
def rfft_freqs(n, sr):
    """Positive FFT frequencies (DC set to the first bin) and their logs."""
    f = np.fft.rfftfreq(n, 1.0 / sr)
    f[0] = f[1]
    return f, np.log(f)


def shaped_noise(rng, n, sr, alpha=1.0, lo=20.0, hi=None):
    """Noise with a 1/f**alpha power spectrum between lo and hi (unit RMS)."""
    nf = n // 2 + 1
    spec = rng.standard_normal(2 * nf).view(np.complex128)
    f, logf = rfft_freqs(n, sr)
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
    return unit(np.fft.irfft(spec, n))


def smooth(rng, n, sr, rate, lo=-1.0, hi=1.0):
    """A smooth random control signal: random points at ``rate`` Hz."""
    k = int(np.ceil(n / sr * rate)) + 2
    pts = rng.uniform(lo, hi, k)
    return np.interp(np.linspace(0.0, k - 2.0, n), np.arange(k), pts)


def moving_average(x, width):
    """Moving average of odd ``width`` samples (cumulative-sum, O(n))."""
    width = max(1, int(width))
    if width == 1:
        return x
    c = np.cumsum(np.concatenate([np.zeros(width), x, np.zeros(width)]))
    out = (c[width:] - c[:-width]) / width
    half = width // 2
    return out[half : half + len(x)]


def gate(n, sr, segments, ramp=0.01):
    """0/1 gate over ``(start_s, dur_s)`` segments with smoothed edges."""
    g = np.zeros(n)
    for start, dur in segments:
        a = max(0, int(start * sr))
        b = min(n, int((start + dur) * sr))
        if b > a:
            g[a:b] = 1.0
    return moving_average(g, int(ramp * sr) | 1)


def bouts(rng, n, sr, on=(1.0, 4.0), off=(0.3, 2.0)):
    """Gate of working bouts separated by pauses."""
    segs, t = [], -rng.uniform(0.0, on[1])
    while t < n / sr:
        d = rng.uniform(*on)
        segs.append((t, d))
        t += d + rng.uniform(*off)
    return gate(n, sr, segs, ramp=0.02)


def cycles(freq, sr):
    """Accumulated cycles of a frequency track (phase / 2 pi)."""
    return np.cumsum(freq) / sr


def fade(x, sr, t_in=0.02, t_out=0.05):
    n = len(x)
    a = min(n // 2, max(1, int(t_in * sr)))
    b = min(n // 2, max(1, int(t_out * sr)))
    x = x.copy()
    x[:a] *= 0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, a))
    x[n - b :] *= 0.5 + 0.5 * np.cos(np.linspace(0.0, np.pi, b))
    return x


def swell(n, sr, centre, width, floor=0.0):
    """Gaussian level swell (a source passing by), computed near its peak."""
    out = np.full(n, float(floor))
    a = max(0, int((centre - 5.0 * width) * sr))
    b = min(n, int((centre + 5.0 * width) * sr) + 1)
    if b > a:
        t = (np.arange(a, b) / sr - centre) / width
        out[a:b] += (1.0 - floor) * np.exp(-0.5 * t * t)
    return out


def level_envelope(rng, n, sr):
    """Steady, slowly varying or passing-by level over an event."""
    dur = n / sr
    kind = rng.choice(["steady", "vary", "pass"], p=[0.4, 0.35, 0.25])
    if kind == "steady":
        return np.ones(n)
    if kind == "vary":
        return 10.0 ** (rng.uniform(2.0, 6.0) * smooth(rng, n, sr, 0.5) / 20)
    width = rng.uniform(0.2, 0.5) * dur
    return swell(n, sr, rng.uniform(0.3, 0.7) * dur, width, floor=0.15)


def place(out, x, start):
    """Add ``x`` into ``out`` at sample ``start`` (cropped at both ends)."""
    a = max(0, start)
    b = min(len(out), start + len(x))
    if b > a:
        out[a:b] += x[a - start : b - start]


def impulses(rng, n, sr, rate, jitter=0.05, amp_sd=0.2, drift=0.05):
    """Impulse train at ``rate`` Hz with timing jitter and amplitude spread."""
    count = int(n / sr * rate * 1.5) + 4
    period = 1.0 / rate
    iv = period * (1.0 + jitter * rng.standard_normal(count))
    iv *= 1.0 + drift * smooth(rng, count, 1.0, 0.2)
    iv = np.maximum(iv, 0.3 * period)
    times = np.cumsum(iv) - rng.uniform(0.0, period)
    times = times[(times >= 0.0) & (times < n / sr)]
    imp = np.zeros(n)
    amps = np.clip(1.0 + amp_sd * rng.standard_normal(len(times)), 0.2, 2.5)
    np.add.at(imp, (times * sr).astype(int), amps)
    return imp


def impact_kernel(
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
    nz = filt(rng.standard_normal(m), "highpass", noise_hp, sr)
    k += mix[2] * nz * np.exp(-t / noise_decay)
    k[: int(0.0005 * sr) + 1] *= np.linspace(0.0, 1.0, int(0.0005 * sr) + 1)
    return k / (np.max(np.abs(k)) + 1e-12)


def resonate(x, sr, freq, q, gain):
    """Add a resonant band (body/muffler/horn) to ``x``."""
    bw = freq / q
    return x + gain * filt(x, "bandpass", [freq - bw / 2, freq + bw / 2], sr)


def formant_sos(formants, bandwidths, sr):
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
