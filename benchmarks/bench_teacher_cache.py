#!/usr/bin/env python3
"""Student epoch time with and without the teacher-output cache.

Runs the recipe's IUSP student (``hparams/iusp.yaml``) for a few epochs with
``--teacher_cache True`` and ``False`` on the same data and teacher, and
reads each epoch's wall time (train + validate) from the run's ``log.txt``.
The first epoch of the cached run fills the cache (it runs the teacher),
later epochs read it.

Usage:
> python benchmarks/bench_teacher_cache.py \\
      --data_folder data/generated_corpus --epochs 4

Authors
 * speechbrain-iusp developers 2026
"""

import argparse
import os
import platform
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
TRAIN = ROOT / "recipes" / "DCASE2019" / "train.py"


def run(args, cache):
    """One student run; returns its wall time and its epoch times."""
    name = f"iusp_cache_{cache}"
    cmd = [
        sys.executable,
        str(TRAIN),
        "hparams/iusp.yaml",
        f"--data_folder={args.data_folder}",
        f"--output_root={args.output_root}",
        f"--experiment_name={name}",
        f"--student_size={args.student_size}",
        f"--number_of_epochs={args.epochs}",
        f"--teacher_cache={cache}",
        "--noprogressbar",
    ]
    start = time.time()
    subprocess.run(cmd, check=True, cwd=ROOT, capture_output=True)
    wall = time.time() - start
    folder = Path(args.output_root) / name / "1234"
    return wall, log_epoch_times(folder / "log.txt")


def log_epoch_times(log_file):
    """Durations of epochs 1..N-1 (train + validate) from log.txt, read
    between consecutive 'Going into epoch' lines."""
    stamps = [
        datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f")
        for line in Path(log_file).read_text().splitlines()
        if "Going into epoch" in line
    ]
    pairs = zip(stamps[:-1], stamps[1:], strict=True)
    return [(b - a).total_seconds() for a, b in pairs]


def main():
    """Benchmark both settings and print a Markdown row for each."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data_folder", required=True)
    parser.add_argument("--output_root", default="results/bench_cache")
    parser.add_argument("--student_size", default="small")
    parser.add_argument("--epochs", type=int, default=4)
    args = parser.parse_args()
    print(
        f"machine: {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores, torch {torch.__version__}"
    )
    print("| teacher_cache | run wall (s) | epoch times (s) |")
    print("|---|---|---|")
    for cache in (False, True):
        wall, times = run(args, cache)
        shown = ", ".join(f"{t:.0f}" for t in times)
        print(f"| {cache} | {wall:.0f} | {shown} |")


if __name__ == "__main__":
    main()
