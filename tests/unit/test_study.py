"""Tests for the study tools: bootstrap statistics, tuning grids, pools.

Authors
 * speechbrain-iusp developers 2026
"""

import threading
import time

import numpy as np
import pytest

from speechbrain_iusp.sonyc import evaluate_coarse
from speechbrain_iusp.study import (
    RunScores,
    bracketed,
    expand_grid,
    paired_bootstrap,
    relative_improvement,
    relative_improvement_bootstrap,
    tune,
)
from speechbrain_iusp.study.pool import LocalPool, OptunaPool, work


def _truth(n=60, seed=0):
    rng = np.random.default_rng(seed)
    y = (rng.random((n, 8)) < 0.3).astype(float)
    y[0] = 1.0  # every class has a positive
    return y


def _cell(y, quality, seeds=(1, 2, 3), seed=1):
    """Scores that follow the truth with weight quality[seed]."""
    rng = np.random.default_rng(seed)
    return RunScores(
        y,
        {
            s: np.clip(q * y + (1 - q) * rng.random(y.shape), 0, 1)
            for s, q in zip(seeds, quality, strict=True)
        },
    )


def test_paired_bootstrap_signs_and_identity():
    y = _truth()
    good = _cell(y, [0.7, 0.7, 0.7], seed=1)
    bad = _cell(y, [0.1, 0.1, 0.1], seed=2)
    res = paired_bootstrap(good, bad, n_boot=200)
    manual = np.mean(
        [evaluate_coarse(y, good.scores[s])["micro_auprc"] for s in (1, 2, 3)]
    ) - np.mean(
        [evaluate_coarse(y, bad.scores[s])["micro_auprc"] for s in (1, 2, 3)]
    )
    assert res["diff"] == pytest.approx(manual, abs=1e-12)
    assert 0 < res["ci_low"] < res["diff"] < res["ci_high"]
    assert res["p_le_0"] == 0.0 and res["n_seeds"] == 3
    same = paired_bootstrap(good, good, n_boot=50)
    assert same["diff"] == 0.0 and same["ci_low"] == same["ci_high"] == 0.0


def test_resampling_seeds_widens_the_interval_when_seeds_disagree():
    """One lucky seed: clips-only intervals are too narrow."""
    y = _truth(n=80)
    a = _cell(y, [0.9, 0.2, 0.2], seed=3)
    b = _cell(y, [0.3, 0.3, 0.3], seed=4)
    rng = np.random.default_rng(0)
    both = paired_bootstrap(a, b, 300, rng, seeds=True)
    clips = paired_bootstrap(a, b, 300, np.random.default_rng(0), seeds=False)
    assert both["diff"] == clips["diff"]
    width = both["ci_high"] - both["ci_low"]
    assert width > 1.5 * (clips["ci_high"] - clips["ci_low"])


def test_only_shared_seeds_are_paired():
    y = _truth()
    a = _cell(y, [0.5, 0.5, 0.5], seeds=(1, 2, 3))
    b = _cell(y, [0.5, 0.5], seeds=(2, 3))
    assert paired_bootstrap(a, b, n_boot=10)["n_seeds"] == 2
    c = _cell(y, [0.5], seeds=(9,))
    with pytest.raises(ValueError, match="share no seed"):
        paired_bootstrap(a, c, n_boot=10)
    with pytest.raises(ValueError, match="do not match"):
        RunScores(y, {1: y[:10]})


def test_relative_improvement_from_seed_means():
    y = _truth()
    base = _cell(y, [0.1, 0.15, 0.1], seed=5)
    sp = _cell(y, [0.4, 0.35, 0.4], seed=6)
    iusp = _cell(y, [0.5, 0.55, 0.5], seed=7)
    res = relative_improvement_bootstrap(base, sp, iusp, n_boot=100)

    def mean(cell):
        return np.mean(
            [
                evaluate_coarse(y, cell.scores[s])["micro_auprc"]
                for s in (1, 2, 3)
            ]
        )

    manual = (mean(iusp) - mean(sp)) / (mean(sp) - mean(base))
    assert res["ratio"] == pytest.approx(manual, rel=1e-12)
    assert res["ci_low"] < res["ratio"] < res["ci_high"]
    assert res["p_sp_le_base"] == 0.0
    # SP no better than the baseline: the ratio is undefined, not a number
    assert relative_improvement(0.5, 0.5, 0.6) is None
    flipped = relative_improvement_bootstrap(sp, base, iusp, n_boot=50)
    assert flipped["ratio"] is None and flipped["ci_low"] is None
    assert flipped["p_sp_le_base"] == 1.0


def test_tuning_extends_until_the_weight_is_inside():
    calls = []

    def score(choices):
        calls.append(list(choices))
        # peak at w = 1e4 at the conv1 tap; rnn is worse everywhere
        return [
            -abs(np.log10(c["w"]) - 4) - (0.5 if c["tap"] == "rnn" else 0)
            for c in choices
        ]

    res = tune({"w": [1.0, 10.0], "tap": ["rnn", "conv1"]}, score, 5)
    assert res["chosen"] == {"w": 1e4, "tap": "conv1"}
    assert res["bracketed"] and res["weight_key"] == "w"
    extra = [c for batch in calls[1:] for c in batch]
    assert extra == [
        {"w": 100.0, "tap": "conv1"},
        {"w": 1000.0, "tap": "conv1"},
        {"w": 1e4, "tap": "conv1"},
        {"w": 1e5, "tap": "conv1"},
    ]
    # downwards too, and an unbracketed result is reported as such
    down = tune(
        {"w": [10.0, 100.0], "tap": ["x"]}, lambda cs: [-c["w"] for c in cs], 1
    )
    assert down["chosen"]["w"] == 1.0 and not down["bracketed"]
    assert not bracketed([({"w": 1.0}, 0.3)], "w")
    with pytest.raises(ValueError, match="'w' must list at least one value"):
        expand_grid({"w": []})


def test_local_pool_runs_at_most_jobs_at_a_time():
    running, peak = [0], [0]
    lock = threading.Lock()

    def run(job):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.02)
        with lock:
            running[0] -= 1
        return job["x"]

    pool = LocalPool(run, jobs=2)
    # two callers at once (as the tuning of two methods) share the limit
    results = {}
    threads = [
        threading.Thread(
            target=lambda k=k: results.update(
                {k: pool.map([{"name": f"{k}{i}", "x": i} for i in range(4)])}
            )
        )
        for k in "ab"
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {"a": [0, 1, 2, 3], "b": [0, 1, 2, 3]}
    assert peak[0] == 2


def test_optuna_pool_remote_worker_and_failures(tmp_path):
    optuna = pytest.importorskip("optuna")
    url = f"sqlite:///{tmp_path / 'study.db'}"
    seen = []

    def run(job):
        seen.append(job["name"])
        if job.get("fail"):
            raise RuntimeError("broken hparams")
        return job["x"] * 1.5

    # no local workers: a "remote" worker (another thread here) runs them
    pool = OptunaPool(run, url, "s", jobs=0, poll_s=0.05)
    stop = threading.Event()
    remote = optuna.load_study(study_name="s", storage=url)
    worker = threading.Thread(
        target=work,
        args=(remote, run),
        kwargs={"stop": stop, "idle_exit": False, "poll_s": 0.05},
    )
    worker.start()
    try:
        assert pool.map([{"name": "a", "x": 2}, {"name": "b", "x": 4}]) == [
            3.0,
            6.0,
        ]
        # finished jobs are not run again
        assert pool.map([{"name": "a", "x": 2}]) == [3.0]
        assert seen.count("a") == 1
        with pytest.raises(RuntimeError, match="job c failed.*broken hparams"):
            pool.map([{"name": "c", "x": 1, "fail": True}])
    finally:
        stop.set()
        worker.join()
    # a failed job is queued again on the next call (fixed now)
    again = OptunaPool(lambda job: 7.0, url, "s", jobs=1)
    assert again.map([{"name": "c", "x": 1}]) == [7.0]


def _record(y, quality, seed, method):
    rng = np.random.default_rng(seed * 10 + len(method))
    scores = np.clip(quality * y + (1 - quality) * rng.random(y.shape), 0, 1)
    coarse = evaluate_coarse(y, scores)
    return {
        "overrides": {"seed": seed},
        "params": 1000,
        "macs": 2e6,
        "validate": {"coarse": coarse},
        "test": {"coarse": coarse},
        "test_scores": scores.tolist(),
    }


def test_report_from_records(tmp_path):
    from speechbrain_iusp.study.report import write_report

    y = _truth(n=40)
    quality = {"baseline": 0.2, "sp": 0.5, "iusp": 0.6}
    cells = {
        ("tiny", m): [_record(y, q, s, m) for s in (1, 2, 3)]
        for m, q in quality.items()
    }
    teacher_rec = _record(y, 0.9, 9, "teacher")
    text = write_report(
        tmp_path,
        cells,
        y,
        ["tiny"],
        "toy data",
        teacher={"candidates": {"t": 0.9}, "chosen": "t"},
        teacher_record=teacher_rec,
        n_boot=40,
    )
    assert text.startswith("# The IUSP study on toy data")
    for m in quality:
        mean = np.mean(
            [r["test"]["coarse"]["micro_auprc"] for r in cells[("tiny", m)]]
        )
        assert f"| tiny | {m} | 1,000 | 2.0 M | 3 | {mean:.4f} ±" in text
    base = max(
        np.mean([r["validate"]["coarse"]["micro_auprc"] for r in recs])
        for (_, m), recs in cells.items()
        if m == "baseline"
    )
    margin = teacher_rec["validate"]["coarse"]["micro_auprc"] - base
    assert f"(validate micro-AUPRC): {margin:+.4f}" in text
    assert "| tiny | iusp - sp | +" in text
    assert "- tiny: r = " in text
    assert (tmp_path / "study.csv").read_text().count("\n") == 4
    per_class = (tmp_path / "per_class.md").read_text()
    assert "## Best iusp: size tiny" in per_class


def test_report_intervals_do_not_move_when_rows_are_added(tmp_path):
    from speechbrain_iusp.study.report import write_report

    y = _truth(n=40)
    quality = {"baseline": 0.2, "sp": 0.5, "iusp": 0.6}

    def cells(sizes):
        return {
            (size, m): [_record(y, q, s, m) for s in (1, 2, 3)]
            for size in sizes
            for m, q in quality.items()
        }

    def small_rows(sizes):
        text = write_report(tmp_path, cells(sizes), y, sizes, "toy", n_boot=50)
        return [
            line
            for line in text.splitlines()
            if line.startswith("| small |") or line.startswith("- small: r")
        ]

    alone = small_rows(["small"])
    assert len(alone) == 7  # 3 table rows, 3 differences and r
    assert small_rows(["tiny", "small"]) == alone
