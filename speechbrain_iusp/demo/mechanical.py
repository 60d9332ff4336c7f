"""Sound models of the mechanical SONYC-UST classes (1-5).

Engines (firing rate, throttle), machinery impacts (rock drill, jackhammer,
hoe-ram, pile driver), non-machinery impacts, powered saws and alert signals
(horn, car alarm, siren, reverse beeper). Every model is ``model(rng, n,
sr)`` and returns ``n`` float64 samples at roughly unit level.

Authors
 * speechbrain-iusp developers 2026
"""

import numpy as np
from scipy import signal

from speechbrain_iusp.demo import dsp
from speechbrain_iusp.demo.dsp import TWO_PI

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
        rev += rng.uniform(0.1, 0.6) * dsp.swell(
            n, sr, rng.uniform(0, n / sr), rng.uniform(0.3, 1.5)
        )
    freq = f0 * (1.0 + 0.04 * dsp.smooth(rng, n, sr, 0.8)) * (1.0 + rev)
    cyc = dsp.cycles(freq, sr)
    frac = cyc % 1.0
    width = rng.uniform(0.012, 0.06)
    pulse = np.exp(-0.5 * ((frac - 0.5) / width) ** 2)
    ncyl = rng.choice([2, 3, 4, 6])
    uneven = 1.0 + rng.uniform(0.05, 0.4) * np.cos(
        TWO_PI * cyc / ncyl + rng.uniform(0, TWO_PI)
    )
    shimmer = 1.0 + rng.uniform(0.05, 0.3) * dsp.smooth(rng, n, sr, f0 * 0.7)
    src = pulse * uneven * shimmer
    src -= src.mean()
    noise = dsp.noise(rng, n) * (0.2 + pulse) * rng.uniform(0.1, 0.6)
    x = dsp.unit(src) + noise
    x = dsp.filt(
        x, "lowpass", rng.uniform(*lp_r) * (1.0 + 0.5 * rev.mean()), sr
    )
    x = dsp.resonate(
        x, sr, rng.uniform(*res_r), rng.uniform(2, 6), rng.uniform(1, 4)
    )
    if size == "large" or rng.random() < 0.3:
        rumble = dsp.filt(
            dsp.noise(rng, n), "lowpass", rng.uniform(50, 110), sr, 4
        )
        x = dsp.unit(x) + rng.uniform(0.2, 0.8) * dsp.unit(rumble)
    if size == "small" and rng.random() < 0.5:  # scooter/motorbike rasp
        x = dsp.unit(x) + 0.3 * dsp.unit(
            dsp.filt(noise, "highpass", 2000.0, sr)
        )
    return dsp.unit(x) * dsp.level_envelope(rng, n, sr)


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
        ker = dsp.impact_kernel(
            rng, sr, u(0.02, 0.045), u(120, 400), 0.012,
            u(700, 3800, size=rng.integers(2, 5)), u(0.006, 0.02),
            u(0.003, 0.01), u(800, 3000), (u(0.3, 1.0), 1.0, u(0.5, 1.5)),
        )  # fmt: skip
        imp = dsp.impulses(rng, n, sr, rate, jitter=0.06, amp_sd=0.25)
        x = signal.oaconvolve(imp, ker)[:n]
        hiss = dsp.filt(
            dsp.noise(rng, n), "bandpass", [u(1500, 3000), 9000.0], sr
        )
        x = dsp.unit(x) + u(0.1, 0.5) * hiss * (
            0.5 + dsp.moving_average(imp, 200)
        )
        gate = dsp.bouts(rng, n, sr, on=(0.8, 4.0), off=(0.2, 1.5))
    elif kind == "rock-drill":
        rate = u(28.0, 55.0)
        ker = dsp.impact_kernel(
            rng, sr, u(0.015, 0.03), u(150, 500), 0.006,
            u(500, 3000, size=rng.integers(2, 4)), u(0.004, 0.01),
            u(0.002, 0.006), u(600, 2000), (u(0.5, 1.0), 1.0, u(0.3, 1.0)),
        )  # fmt: skip
        imp = dsp.impulses(rng, n, sr, rate, jitter=0.02, amp_sd=0.08)
        x = signal.oaconvolve(imp, ker)[:n]
        f_m = u(90, 220) * (1.0 + 0.03 * dsp.smooth(rng, n, sr, 1.0))
        frac = dsp.cycles(f_m, sr) % 1.0
        motor = dsp.filt(1.0 - 2.0 * frac, "lowpass", u(800, 2500), sr)
        x = dsp.unit(x) + u(0.1, 0.4) * dsp.unit(motor)
        gate = dsp.bouts(rng, n, sr, on=(1.5, 6.0), off=(0.3, 1.5))
    elif kind == "hoe-ram":
        rate = u(5.0, 12.0)
        ker = dsp.impact_kernel(
            rng, sr, u(0.06, 0.14), u(70, 200), u(0.03, 0.06),
            u(350, 1600, size=rng.integers(2, 5)), u(0.02, 0.06),
            u(0.005, 0.02), u(400, 1500), (1.0, u(0.5, 1.0), u(0.3, 1.0)),
        )  # fmt: skip
        imp = dsp.impulses(rng, n, sr, rate, jitter=0.04, amp_sd=0.2)
        x = signal.oaconvolve(imp, ker)[:n]
        x = dsp.unit(x) + u(0.1, 0.4) * engine(rng, n, sr, "large")
        gate = dsp.bouts(rng, n, sr, on=(1.0, 5.0), off=(0.3, 2.0))
    elif kind == "pile-driver":
        rate = u(0.5, 2.0)
        ker = dsp.impact_kernel(
            rng, sr, u(0.4, 0.9), u(30, 90), u(0.08, 0.2),
            u(200, 1300, size=rng.integers(3, 7)), u(0.15, 0.5),
            u(0.01, 0.04), u(300, 1200), (1.0, u(0.4, 1.0), u(0.4, 1.0)),
        )  # fmt: skip
        imp = dsp.impulses(rng, n, sr, rate, jitter=0.03, amp_sd=0.1)
        x = signal.oaconvolve(imp, ker)[:n]
        gate = np.ones(n)
    else:
        raise ValueError(f"Unknown machinery impact kind '{kind}'")
    return dsp.unit(x * gate) * dsp.level_envelope(rng, n, sr)


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
            ker = dsp.impact_kernel(
                rng, sr, u(0.15, 0.4), u(50, 150), u(0.03, 0.08),
                u(150, 700, size=3), u(0.02, 0.08), u(0.005, 0.02),
                u(500, 2000), (1.0, u(0.3, 0.8), u(0.2, 0.8)),
            )  # fmt: skip
        elif kind == "bang":
            ker = dsp.impact_kernel(
                rng, sr, u(0.1, 0.5), u(80, 300), u(0.01, 0.04),
                u(400, 4000, size=rng.integers(2, 6)), u(0.03, 0.2),
                u(0.005, 0.03), u(200, 1500), (u(0.3, 1), 1.0, u(0.5, 1.5)),
            )  # fmt: skip
        else:
            ker = dsp.impact_kernel(
                rng, sr, u(0.05, 0.2), u(100, 400), u(0.01, 0.03),
                u(800, 5000, size=rng.integers(1, 4)), u(0.01, 0.05),
                u(0.002, 0.01), u(1000, 4000), (u(0.2, 0.8), 1.0, 1.0),
            )  # fmt: skip
        ker *= u(0.3, 1.0)
        start = int(u(0.0, max(1.0, n - 0.1 * sr)))
        dsp.place(x, ker, start)
        if rng.random() < 0.3:  # rattle / double hit
            dsp.place(x, 0.5 * ker, start + int(u(0.03, 0.15) * sr))
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
    return dsp.moving_average(g, int(rise * sr) | 1)


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
        freq *= 1.0 + 0.02 * dsp.smooth(rng, n, sr, 3.0)
        frac = dsp.cycles(freq, sr) % 1.0
        duty = u(0.15, 0.4)
        src = (frac < duty).astype(float) - duty
        rough = 1.0 + u(0.2, 0.5) * dsp.smooth(rng, n, sr, 250.0)
        x = dsp.unit(src * rough) + u(0.2, 0.6) * dsp.noise(rng, n) * (
            0.3 + thr
        )
        x = dsp.filt(x, "highpass", u(80, 200), sr)
        x = dsp.resonate(x, sr, u(500, 1600), u(2, 5), u(1, 4))
        x = dsp.filt(x, "lowpass", u(3000, 8000), sr)
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
        cyc = dsp.cycles(freq, sr)
        teeth = rng.integers(8, 40) if large else rng.integers(4, 24)
        x = np.zeros(n)
        for m, amp in ((1, 1.0), (2, u(0.3, 0.8)), (3, u(0.1, 0.5))):
            x += amp * np.sin(TWO_PI * m * cyc)
        for m in (teeth, 2 * teeth):
            x += u(0.3, 1.2) * np.sin(TWO_PI * m * cyc + u(0, TWO_PI))
        lo, hi = (1000.0, 6000.0) if large else (2000.0, 10000.0)
        cut = dsp.filt(dsp.noise(rng, n), "bandpass", [u(lo * 0.5, lo), hi], sr)
        x = dsp.unit(x) + u(0.4, 1.5) * load * cut
        level = 0.6 + 0.6 * load
    return dsp.unit(x * level) * dsp.level_envelope(rng, n, sr)


# ----------------------------------------------------------------------------
# 5 alert signal
# ----------------------------------------------------------------------------
def tone_from_freq(freq, sr, bright=0.5):
    """Rich tone from a frequency track (soft-clipped sine)."""
    s = np.sin(TWO_PI * dsp.cycles(freq, sr))
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
            frac = dsp.cycles(np.full(n, f), sr) % 1.0 + u(0, 1)
            x += ((frac % 1.0) < duty).astype(float) - duty
        x = dsp.resonate(x, sr, u(1500, 3200), 3.0, u(1, 3))
        x = dsp.filt(x, "lowpass", u(3000, 7000), sr)
        segs, t0 = [], u(0.0, 0.3 * dur)
        for _ in range(rng.integers(1, 5)):
            d = u(0.15, 1.6) if rng.random() < 0.8 else u(1.5, 3.5)
            segs.append((t0, d))
            t0 += d + u(0.1, 1.2)
        x = x * dsp.gate(n, sr, segs, ramp=0.008)
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
        g = dsp.moving_average(np.tile(gcycle, reps)[off : off + n], 89)
        x = tone_from_freq(f, sr, u(0.3, 1.0)) * g
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
            f = dsp.moving_average(f, 221)
        if rng.random() < 0.3:  # switches between patterns
            f = np.where(t > u(0.3, 0.7) * dur, lo + (f - lo) * 0.9, f)
        doppler = 1.0 + u(0.0, 0.04) * np.tanh((t - u(0, dur)) / u(0.5, 2.0))
        x = tone_from_freq(f * doppler, sr, u(0.1, 0.7))
        x = dsp.filt(x, "lowpass", u(3000, 8000), sr)
    elif kind == "reverse-beeper":
        f = u(850, 1350)
        on_t, per = u(0.3, 0.6), u(0.75, 1.3)
        x = np.sin(TWO_PI * f * t) + u(0.05, 0.4) * np.sin(TWO_PI * 3 * f * t)
        if rng.random() < 0.2:  # broadband ("white noise") beeper
            x = dsp.filt(dsp.noise(rng, n), "bandpass", [f * 0.5, f * 3], sr)
        g = ((t + u(0, per)) % per < on_t).astype(float)
        x = x * dsp.moving_average(g, 133)
    else:
        raise ValueError(f"Unknown alert signal kind '{kind}'")
    return dsp.unit(x) * dsp.level_envelope(rng, n, sr)


# ----------------------------------------------------------------------------
# 6 music
