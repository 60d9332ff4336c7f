#!/usr/bin/env python3
"""Share-targeted weights against the study's tuned fixed weights.

Runs SP and IUSP students at each size and seed twice, with the tuned fixed
weights of ``hparams/student.yaml`` and with one target gradient share
(``--share``) in their place, and writes the table: test coarse
micro-AUPRC (mean ± std over seeds), the share the fixed weight gave and
the weight the share gave (train, last epoch), and whether the share lands
within the seed spread of the fixed weight (|difference of means| <= the
fixed weight's std).

> python recipes/DCASE2019/shares.py --share 0.6 --run

Without ``--data_folder`` the runs use the generated corpus (synthetic, NOT
SONYC-UST), as train.py does. Finished runs are read, not run again.

Authors
 * speechbrain-iusp developers 2026
"""

import argparse
import re
import statistics
import subprocess
import sys
from pathlib import Path

from speechbrain_iusp.runs import NotFinished, RunFolder

RECIPE = Path(__file__).resolve().parent


def run_name(method, size, share=None):
    """The experiment name of one cell (the fixed weight without a share)."""
    return (
        f"{method}_{size}" if share is None else f"{method}_share{share}_{size}"
    )


def last_train_value(log, key):
    """The last ``train <key>:`` value of a train log, or None."""
    found = re.findall(rf"train {re.escape(key)}: ([^,\s]+)", log)
    return float(found[-1]) if found else None


def cell(args, method, size, share):
    """Test micro-AUPRCs and last-epoch share/weight of one cell's seeds."""
    rows = []
    for seed in args.seeds:
        folder = RunFolder(
            Path(args.output_root) / run_name(method, size, share) / str(seed)
        )
        if not folder.finished and args.run:
            cmd = [sys.executable, str(RECIPE / "train.py")]
            cmd += [str(RECIPE / "hparams" / f"{method}.yaml"), *args.extra]
            cmd += ["--output_root", args.output_root]
            cmd += ["--student_size", size, "--seed", str(seed)]
            if share is not None:
                cmd += ["--experiment_name", run_name(method, size, share)]
                cmd += [f"--{method}_share", str(share)]
            subprocess.run(cmd, check=True)
        metrics = folder.metrics()
        log = (folder.path / "train_log.txt").read_text()
        rows.append(
            {
                "auprc": metrics["test"]["coarse"]["micro_auprc"],
                "share": last_train_value(log, f"{method}_share"),
                "weight": last_train_value(log, f"{method}_weight"),
            }
        )
    return rows


def mean_std(values):
    """``mean ± std`` (sample std) of a list of numbers."""
    return f"{statistics.mean(values):.4f} ± {statistics.stdev(values):.4f}"


def main(argv):
    """Runs (with ``--run``) and tabulates the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--share", type=float, required=True)
    parser.add_argument("--sizes", nargs="+", default=["tiny", "small"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    parser.add_argument("--methods", nargs="+", default=["sp", "iusp"])
    parser.add_argument("--output_root", default="results/shares")
    parser.add_argument("--run", action="store_true")
    parser.add_argument("--table", default=None, help="markdown file")
    args, args.extra = parser.parse_known_args(argv)
    lines = [
        f"| method | size | fixed weight: test micro-AUPRC | its share "
        f"(last epoch) | share {args.share}: test micro-AUPRC | its weight "
        "(last epoch) | difference | within the seed spread |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for method in args.methods:
        for size in args.sizes:
            try:
                fixed = cell(args, method, size, None)
                shared = cell(args, method, size, args.share)
            except NotFinished as err:
                sys.exit(f"shares.py: {err}; or pass --run to run it")
            a = [r["auprc"] for r in fixed]
            b = [r["auprc"] for r in shared]
            diff = statistics.mean(b) - statistics.mean(a)
            within = abs(diff) <= statistics.stdev(a)
            lines.append(
                f"| {method} | {size} | {mean_std(a)} | "
                f"{statistics.mean(r['share'] for r in fixed):.2f} | "
                f"{mean_std(b)} | "
                f"{statistics.mean(r['weight'] for r in shared):.3g} | "
                f"{diff:+.4f} | {'yes' if within else 'no'} |"
            )
    text = "\n".join(lines) + "\n"
    print(text)
    if args.table:
        Path(args.table).write_text(text)


if __name__ == "__main__":
    main(sys.argv[1:])
