"""A study's report: tables, paired intervals, per-class AUPRC, plot.

Works on run records (see :func:`write_report`), so a study's report can be
written again at any time without its run folders.

Authors
 * speechbrain-iusp developers 2026
"""

import csv
import zlib

import numpy as np

from speechbrain_iusp.study.figures import plot_auprc_vs_params
from speechbrain_iusp.study.stats import (
    RunScores,
    paired_bootstrap,
    relative_improvement_bootstrap,
)

__all__ = ["PAIRS", "write_per_class", "write_report"]

# Paired comparisons of the report (first - second), where both exist.
PAIRS = [
    ("iusp", "sp"),
    ("sp", "baseline"),
    ("iusp", "baseline"),
    ("kd", "baseline"),
    ("kd_iusp", "kd"),
    ("kd_sp", "kd"),
    ("kd_iusp", "kd_sp"),
]


def mean_std(values):
    """(mean, std) of a list."""
    return float(np.mean(values)), float(np.std(values))


def cell_scores(recs, truth):
    """RunScores of a cell's records."""
    return RunScores(
        truth,
        {r["overrides"]["seed"]: np.array(r["test_scores"]) for r in recs},
    )


def fmt_ci(res):
    """A bootstrap result as text."""
    return (
        f"{res['diff']:+.4f} [{res['ci_low']:+.4f}, {res['ci_high']:+.4f}]"
        f" p(<=0)={res['p_le_0']:.3f}, {res['n_seeds']} seeds"
    )


def _rng(*names):
    """A bootstrap generator of its own for each interval, so that adding
    a size or a method to a report leaves the other intervals unchanged."""
    return np.random.default_rng([0, zlib.crc32("|".join(names).encode())])


def write_report(
    out,
    cells,
    truth,
    sizes,
    label,
    teacher=None,
    teacher_record=None,
    tuning=None,
    n_boot=1000,
):
    """Write ``study.md``, ``study.csv``, ``per_class.md`` and the plot.

    Arguments
    ---------
    out : Path
        Folder to write to (the records folder).
    cells : dict
        (size, method) -> list of run records (one per seed): dicts with
        ``overrides["seed"]``, ``params``, ``macs``, ``validate`` and
        ``test`` (official metrics per mode) and ``test_scores``.
    truth : numpy.ndarray
        ``[N, C]`` coarse ground truth of the test clips, in the order of
        the records' ``test_scores``.
    sizes : list of str
        Student sizes, in report order.
    label : str
        What the data are (e.g. "the generated corpus (synthetic, NOT
        SONYC-UST)").
    teacher : dict, optional
        ``candidates`` (name -> validate score), ``chosen`` and
        ``train_clips`` (name -> train clips of candidates trained on
        more data than the students).
    teacher_record : dict, optional
        The chosen teacher's run record.
    tuning : dict, optional
        method -> tuning result (see :func:`tune`), with ``runs``.
    n_boot : int
        Bootstrap resamples.

    Returns
    -------
    str
        The text of ``study.md``.
    """
    trec = teacher_record
    lines = [
        f"# The IUSP study on {label}",
        "",
        "Written from the run records in "
        f"`{out.name}/`. Coarse evaluation (official DCASE 2019 Task 5 "
        "metrics). Mean ± std over seeds of each run's AUPRC.",
        "",
    ]
    if trec and teacher:
        cands = teacher["candidates"].items()
        lines += [
            f"Teacher: candidate `{teacher['chosen']}` of "
            f"{', '.join(f'{k} {v:.4f}' for k, v in cands)}"
            " (validate micro-AUPRC); "
            f"{trec['params']:,} params; validate "
            f"{trec['validate']['coarse']['micro_auprc']:.4f}, test "
            f"{trec['test']['coarse']['micro_auprc']:.4f}.",
            "",
        ]
        more = teacher.get("train_clips") or {}
        if more:
            lines += [
                "Trained on more train clips than the students (the "
                "same corpus generator and seed: the students' train clips "
                "and more, the same validate and test clips): "
                + ", ".join(f"{k} {v:,} clips" for k, v in more.items())
                + ".",
                "",
            ]
    lines += [
        "| size | method | params | MACs/10 s | seeds | test micro-AUPRC "
        "| test macro-AUPRC | validate micro-AUPRC |",
        "|---|---|---:|---:|---:|---|---|---|",
    ]
    rows = []
    for (size, method), recs in cells.items():
        tm = mean_std([r["test"]["coarse"]["micro_auprc"] for r in recs])
        tM = mean_std([r["test"]["coarse"]["macro_auprc"] for r in recs])
        vm = mean_std([r["validate"]["coarse"]["micro_auprc"] for r in recs])
        rows.append(
            {
                "size": size,
                "method": method,
                "params": recs[0]["params"],
                "macs": recs[0]["macs"],
                "seeds": len(recs),
                "test_micro_mean": tm[0],
                "test_micro_std": tm[1],
                "test_macro_mean": tM[0],
                "test_macro_std": tM[1],
                "validate_micro_mean": vm[0],
                "validate_micro_std": vm[1],
            }
        )
        lines.append(
            f"| {size} | {method} | {recs[0]['params']:,} "
            f"| {recs[0]['macs'] / 1e6:.1f} M | {len(recs)} "
            f"| {tm[0]:.4f} ± {tm[1]:.4f} | {tM[0]:.4f} ± {tM[1]:.4f} "
            f"| {vm[0]:.4f} ± {vm[1]:.4f} |"
        )
    with open(out / "study.csv", "w", newline="") as fout:
        writer = csv.DictWriter(fout, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)

    if trec:
        base = [
            r["validate_micro_mean"] for r in rows if r["method"] == "baseline"
        ]
        if base:
            margin = trec["validate"]["coarse"]["micro_auprc"] - max(base)
            lines += [
                "",
                f"Teacher margin over the best baseline student (validate "
                f"micro-AUPRC): {margin:+.4f} (target: at least +0.05).",
            ]

    lines += [
        "",
        "## Paired differences",
        "",
        "Difference of seed-mean test micro-AUPRC, with a 95% bootstrap "
        f"interval ({n_boot} resamples of seeds and clips, paired by seed and "
        "clip); p = share of resamples where the first method does not win.",
        "",
        "| size | comparison | difference [95% CI] |",
        "|---|---|---|",
    ]
    scores = {key: cell_scores(recs, truth) for key, recs in cells.items()}
    for size in sizes:
        for a, b in PAIRS:
            if (size, a) in scores and (size, b) in scores:
                res = paired_bootstrap(
                    scores[(size, a)],
                    scores[(size, b)],
                    n_boot,
                    _rng(size, a, b),
                )
                lines.append(f"| {size} | {a} - {b} | {fmt_ci(res)} |")
    lines += [
        "",
        "## The paper's relative improvement",
        "",
        "r = (A_IUSP - A_SP) / (A_SP - A_baseline), from the seed means of "
        "per-run test micro-AUPRC: how much larger IUSP's gain over the "
        "baseline is than SP's. Interval: the same bootstrap over seeds and "
        "clips; resamples where SP does not beat the baseline have no ratio "
        "(their share is given).",
        "",
    ]
    for size in sizes:
        keys = [(size, m) for m in ("baseline", "sp", "iusp")]
        if all(k in scores for k in keys):
            res = relative_improvement_bootstrap(
                *(scores[k] for k in keys),
                n_boot=n_boot,
                rng=_rng(size, "relative improvement"),
            )
            ratio = (
                "undefined" if res["ratio"] is None else f"{res['ratio']:+.2f}"
            )
            ci = (
                "too few defined resamples"
                if res["ci_low"] is None
                else f"[{res['ci_low']:+.2f}, {res['ci_high']:+.2f}]"
            )
            lines.append(
                f"- {size}: r = {ratio}, 95% CI {ci}, SP <= baseline in "
                f"{100 * res['p_sp_le_base']:.0f}% of resamples"
            )
    if tuning:
        lines += ["", "## Tuning (validate, one size and seed)", ""]
        for method, res in tuning.items():
            best = res.get("chosen_with_variants", res["chosen"])
            lines.append(
                f"- {method}: chosen {best}; weight inside its grid: "
                f"{res['bracketed']}; {res['runs']} runs"
            )
    (out / "study.md").write_text("\n".join(lines) + "\n")

    points = {}
    for r in rows:
        points.setdefault(r["method"], []).append(
            (r["params"], r["test_micro_mean"], r["test_micro_std"])
        )
    plot_auprc_vs_params(
        points, out / "auprc_vs_params.png", f"Students on {label}"
    )
    write_per_class(cells, sizes, out / "per_class.md", label)
    return "\n".join(lines)


def write_per_class(cells, sizes, path, label):
    """Per-class test AUPRC of the best SP and IUSP students (seed means).

    Arguments
    ---------
    cells : dict
        As in :func:`write_report`.
    sizes : list of str
        Student sizes.
    path : Path
        The Markdown file to write.
    label : str
        What the data are.
    """
    lines = [
        f"# Per-class test AUPRC on {label}",
        "",
        "Mean over seeds, coarse classes, at the size where each method's "
        "test micro-AUPRC is highest.",
        "",
    ]
    for method in ("sp", "iusp"):
        have = [s for s in sizes if (s, method) in cells]
        if not have:
            continue
        size = max(
            have,
            key=lambda s: np.mean(
                [r["test"]["coarse"]["micro_auprc"] for r in cells[(s, method)]]
            ),
        )
        shown = [m for m in ("baseline", "sp", "iusp") if (size, m) in cells]
        lines += [
            f"## Best {method}: size {size}",
            "",
            "| class | " + " | ".join(shown) + " |",
            "|---|" + "---:|" * len(shown),
        ]
        classes = cells[(size, method)][0]["test"]["coarse"]["class_auprc"]
        for cls in classes:
            vals = [
                np.mean(
                    [
                        r["test"]["coarse"]["class_auprc"][cls]
                        for r in cells[(size, m)]
                    ]
                )
                for m in shown
            ]
            lines.append(
                f"| {cls} | " + " | ".join(f"{v:.4f}" for v in vals) + " |"
            )
        lines.append("")
    path.write_text("\n".join(lines) + "\n")
