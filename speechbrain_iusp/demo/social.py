"""Sound models of the social SONYC-UST classes (6-8): music, voice, dog.

Melodies over a beat (stationary, mobile, ice-cream truck), talking,
shouting, crowds and amplified speech from formant-filtered voice sources,
and bark bouts. Every model is ``model(rng, n, sr)``.

Authors
 * speechbrain-iusp developers 2026
"""

import numpy as np
from scipy import signal

from speechbrain_iusp.demo import dsp
from speechbrain_iusp.demo.dsp import TWO_PI, VOWELS

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
        nz = dsp.filt(
            rng.standard_normal(m), "bandpass", [u(800, 2000), 8000], sr
        )
        tone = np.sin(TWO_PI * u(150, 250) * t)
        return (nz + 0.5 * tone) * np.exp(-t / u(0.04, 0.1))
    m = int(0.06 * sr)
    t = np.arange(m) / sr
    nz = dsp.filt(rng.standard_normal(m), "highpass", u(6000, 9000), sr)
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
                dsp.place(x, note, int(tn * sr))
                tn += beat * ln
            t0 = tn + gap
        x = dsp.filt(x, "bandpass", [u(300, 600), u(4000, 8000)], sr)
        return dsp.unit(x) * dsp.level_envelope(rng, n, sr)

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
            dsp.place(
                x, 0.25 * _note(pad, f, 4 * beat, sr, 2 * beat), int(t0 * sr)
            )
        fb = root / 2 * 2 ** (chord[0] / 12.0)
        for b in range(4):
            nb = _note(bass, fb, beat * 0.9, sr, beat)
            dsp.place(x, 0.6 * nb, int((t0 + b * beat) * sr))
        tn = t0
        while tn < t0 + 4 * beat:
            ln = beat * rng.choice([0.5, 0.5, 1.0, 1.5])
            if rng.random() < 0.85:
                s = rng.integers(0, 10)
                f = root * 4 * 2 ** ((scale[s % 7] + 12 * (s // 7)) / 12.0)
                nt = _note(lead, f, ln, sr, u(0.2, 1.0), u(0, 0.006))
                dsp.place(x, 0.5 * nt, int(tn * sr))
            tn += ln
        if use_drums:
            for b in range(8):
                tb = int((t0 + b * beat / 2) * sr)
                if b % 4 == 0:
                    dsp.place(x, 0.9 * drums["kick"], tb)
                if b % 4 == 2:
                    dsp.place(x, 0.5 * drums["snare"], tb)
                dsp.place(x, 0.2 * drums["hat"], tb)
        t0 += 4 * beat
        bar += 1
    if kind == "mobile":
        x = dsp.unit(x) + u(0.5, 1.5) * dsp.unit(
            dsp.filt(x, "lowpass", 150.0, sr)
        )
        x = dsp.filt(x, "lowpass", u(600, 2500), sr)
    return dsp.unit(x) * dsp.level_envelope(rng, n, sr)


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
    freq *= 1.0 + 0.01 * dsp.smooth(rng, n, sr, 30.0)
    frac = dsp.cycles(freq, sr) % 1.0
    glottal = 1.0 - 2.0 * frac
    width = int(0.025 * sr) | 1
    voiced = dsp.moving_average(voiced, width)
    unvoiced = dsp.moving_average(unvoiced, width)
    weights = np.stack(
        [dsp.moving_average(w, int(0.04 * sr) | 1) for w in weights]
    )
    return glottal * voiced, unvoiced, weights


def _formant_mix(src, weights, vowels, scale, sr, bw_scale=1.0):
    out = np.zeros_like(src)
    for w, v in zip(weights, vowels, strict=True):
        sos = dsp.formant_sos(
            v * scale, np.array([80, 110, 160]) * bw_scale, sr
        )
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
        src = src + 0.5 * bright * dsp.filt(src, "highpass", 1500.0, sr)
        x += _formant_mix(src, w, vowels, scale, sr)
    fric = dsp.filt(
        dsp.noise(rng, n), "bandpass", [u(2000, 3500), u(6000, 9000)], sr
    )
    x = dsp.unit(x) + u(0.15, 0.5) * fric * uvs / (np.max(uvs) + 1e-9)
    if kind == "crowd":
        x = x + 0.5 * dsp.unit(dsp.moving_average(x, 5)) * u(0.2, 0.8)
        x = x * 10 ** (u(2, 6) * dsp.smooth(rng, n, sr, 0.4) / 20)
    if kind == "amplified":
        x = dsp.filt(x, "bandpass", [u(250, 500), u(2500, 4500)], sr)
        drive = u(1.5, 6.0)
        x = np.tanh(drive * dsp.unit(x)) / np.tanh(drive)
        for _ in range(rng.integers(1, 3)):
            d = int(u(0.06, 0.4) * sr)
            x[d:] += u(0.2, 0.5) * x[:-d]
    return dsp.unit(x) * dsp.level_envelope(rng, n, sr)


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
            dsp.place(x, u(0.3, 0.7) * s * env, int(t * sr))
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
                dsp.formant_sos([formant, formant * 1.9], [300, 500], sr), s
            )
            env = (1 - np.exp(-tt / 0.005)) * np.exp(-tt / (d * u(0.25, 0.5)))
            dsp.place(x, u(0.6, 1.0) * s * env, int(t * sr))
            t += gap * u(0.8, 1.2)
        t += u(0.8, 3.0)
    x = dsp.filt(x, "highpass", 150.0, sr)
    return x / (np.max(np.abs(x)) + 1e-12)


# ----------------------------------------------------------------------------
# Model registry
# ----------------------------------------------------------------------------
