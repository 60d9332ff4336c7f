#!/usr/bin/env python3
"""The main command's stages, and epoch times with and without each speed-up.

Measures, in one process, on a generated corpus (synthetic, NOT SONYC-UST):

* the stages of the main command: corpus generation, the feature-cache fill
  (features of every clip), a teacher epoch and a student epoch;
* a warm epoch (train + validate) of the recipe's teacher and of its IUSP
  small student under several pipelines, run in turn (A B C ... A B C ...)
  so that a drifting machine speed hits every variant alike:

  - ``before``: waveforms read and featurised every batch, contiguous
    convolutions, glibc's default allocator settings (the pipeline before
    the feature cache);
  - ``feature cache``: features read from the cache;
  - ``channels_last``: the conv blocks in channels_last (ReLU in place);
  - ``allocator``: :func:`speechbrain_iusp.runtime.tune_cpu_allocator`;
  - ``pool first``: the activation of each conv block after its max-pool
    (``ConvBlock.pool_first``; same outputs and gradients);
  - the one-pass GRU (``CRNN.rnn_one_pass``: in training on CPU, the two
    directions as one GRU of twice the width; on by default up to 64 GRU
    units, so for the student and not the teacher) is part of every
    ``all`` variant; ``all + bf16, GRU per direction`` turns it off;
  - ``all`` (the recipe's default now: the four above, the cached
    features also kept in memory), ``all, features from disk`` (each
    ``.npy`` read every epoch), ``all + bf16`` (autocast in training: the
    recipe's default, ``precision: auto``, on CPUs with native bf16),
    ``all, 2 loader workers``, and for the student ``all, no teacher
    cache``.

Each run of a variant is its own process (the allocator setting is per
process); the variants take turns, round after round.

The student's teacher cache is filled by a first epoch that is not timed
(as in a run, where only epoch 1 runs the teacher).

Usage:
> python benchmarks/bench_pipeline.py --corpus data/generated_corpus

Authors
 * speechbrain-iusp developers 2026
"""

import argparse
import functools
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from hyperpyyaml import load_hyperpyyaml

import speechbrain as sb
from speechbrain.utils.epoch_loop import EpochCounter

from speechbrain_iusp.demo import generate_corpus, read_corpus_info
from speechbrain_iusp.distill import DistillationBrain, TeacherCache
from speechbrain_iusp.features import FeatureCache, load_audio
from speechbrain_iusp.models import crnn_preset
from speechbrain_iusp.models.crnn import ConvBlock
from speechbrain_iusp.runtime import tune_cpu_allocator
from speechbrain_iusp.sonyc import AUPRCStats, prediction_columns
from speechbrain_iusp.sonyc.dataio import manifest_audio, sonyc_datasets
from speechbrain_iusp.sonyc.prepare import MANIFEST_NAMES, prepare_sonyc_ust

ROOT = Path(__file__).resolve().parents[1]
HPARAMS = ROOT / "recipes" / "DCASE2019" / "hparams" / "iusp.yaml"


class TimedBrain(DistillationBrain):
    """Records the wall time of each epoch (train start to valid end)."""

    def on_stage_start(self, stage, epoch=None):
        """Starts the epoch clock at TRAIN."""
        if stage == sb.Stage.TRAIN:
            self._epoch_start = time.perf_counter()
        super().on_stage_start(stage, epoch)

    def on_stage_end(self, stage, stage_loss, epoch=None):
        """Stops it at VALID."""
        super().on_stage_end(stage, stage_loss, epoch)
        if stage == sb.Stage.VALID:
            self.epoch_times.append(time.perf_counter() - self._epoch_start)


def recipe_hparams(output_root):
    """The recipe's IUSP hparams (features, presets, optimiser, terms)."""
    with open(HPARAMS) as fin:
        return load_hyperpyyaml(fin, {"output_root": str(output_root)})


def epoch_times(setup, role, variant, epochs):
    """Warm epoch times of one model under one pipeline variant.

    Arguments
    ---------
    setup : dict
        Shared objects (hparams, datasets, teacher, manifests).
    role : str
        ``teacher`` or ``student``.
    variant : dict
        ``features`` (cache|live), ``channels_last``, ``precision``,
        ``teacher_cache``.
    epochs : int
        Timed epochs (after one untimed epoch).

    Returns
    -------
    list of float
        Seconds per timed epoch.
    """
    hp = setup["hparams"]
    torch.manual_seed(0)
    preset = "teacher" if role == "teacher" else "small"
    model = crnn_preset(
        preset,
        n_mels=hp["n_mels"],
        n_classes=hp["n_classes"],
        channels_last=variant["channels_last"],
    )
    if "rnn_one_pass" in variant:  # else the model's default
        model.rnn_one_pass = variant["rnn_one_pass"]
    for module in model.modules():
        if isinstance(module, ConvBlock):
            module.pool_first = variant.get("pool_first", False)
            if not variant["channels_last"]:  # as it was: ReLU not in place
                module.act = torch.nn.ReLU()
    data = setup["datasets"][variant["features"]]
    hparams = {
        "compute_features": hp["compute_features"],
        "epoch_counter": EpochCounter(epochs + 1),
        "metric_stats": functools.partial(
            AUPRCStats, labels=prediction_columns()
        ),
        "metric_mode": "coarse",
        "selection_key": "micro_auprc",
    }
    if role == "student":
        hparams["teacher"] = setup["teacher"]
        hparams["distill_terms"] = hp["distill_terms"]
        hparams["teacher_cache"] = (
            TeacherCache() if variant["teacher_cache"] else False
        )
    brain = TimedBrain(
        modules={"model": model},
        opt_class=hp["opt_class"],
        hparams=hparams,
        run_opts={
            "device": "cpu",
            "noprogressbar": True,
            "precision": variant["precision"],
        },
    )
    brain.epoch_times = []
    loader = dict(hp["train_dataloader_options"])
    loader["num_workers"] = variant.get("workers", 0)
    brain.fit(
        brain.hparams.epoch_counter,
        data["train"],
        data["validate"],
        train_loader_kwargs=loader,
        valid_loader_kwargs=hp["test_dataloader_options"],
    )
    return brain.epoch_times[1:]


VARIANTS = {
    "before": {"features": "live", "channels_last": False},
    "feature cache": {"features": "cache", "channels_last": False},
    "channels_last": {"features": "live", "channels_last": True},
    "allocator": {"features": "live", "channels_last": False, "tune": True},
    "pool first": {"features": "live", "channels_last": False},
    "all": {"features": "cache", "channels_last": True, "tune": True},
    "all + bf16": {
        "features": "cache",
        "channels_last": True,
        "tune": True,
        "precision": "bf16",
    },
    "all + bf16, GRU per direction": {
        "features": "cache",
        "channels_last": True,
        "tune": True,
        "precision": "bf16",
        "rnn_one_pass": False,
    },
    "all, 2 loader workers": {
        "features": "cache",
        "channels_last": True,
        "tune": True,
        "workers": 2,
    },
    "all, features from disk": {
        "features": "cache",
        "channels_last": True,
        "tune": True,
        "memory_mb": 0,
    },
    "all, no teacher cache": {
        "features": "cache",
        "channels_last": True,
        "tune": True,
        "teacher_cache": False,
        "student_only": True,
    },
}
for _name, _variant in VARIANTS.items():  # "all" includes the pooling order
    _variant["pool_first"] = _name.startswith("all") or _name == "pool first"
    if not _name.startswith("all"):
        _variant.setdefault("rnn_one_pass", False)


def child(args):
    """One (role, variant) run in this process; prints its epoch times."""
    variant = {"precision": "fp32", "teacher_cache": True}
    variant.update(VARIANTS[args.child[1]])
    if variant.get("tune"):
        tune_cpu_allocator()
    sb.utils.logger.get_logger("speechbrain").setLevel("WARNING")
    work = Path(args.work)
    manifests = {
        split: str(work / "manifests" / name)
        for split, name in MANIFEST_NAMES.items()
    }
    hp = recipe_hparams(work)
    cache = FeatureCache(
        work / "features",
        hp["compute_features"],
        44100,
        memory_mb=variant.get("memory_mb", 1024),
    )
    setup = {
        "hparams": hp,
        "teacher": crnn_preset(
            "teacher", n_mels=hp["n_mels"], n_classes=hp["n_classes"]
        ),
        "datasets": {
            "live": sonyc_datasets(manifests, args.corpus, 44100),
            "cache": sonyc_datasets(manifests, args.corpus, 44100, cache),
        },
    }
    got = epoch_times(setup, args.child[0], variant, args.epochs)
    print(json.dumps(got))


def main():
    """Runs the benchmark and prints a Markdown report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", default="data/generated_corpus")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--roles", nargs="+", default=["teacher", "student"])
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS))
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args)
    work = Path(tempfile.mkdtemp(prefix="bench_pipeline_"))
    lines = [
        f"Machine: {platform.processor() or platform.machine()}, "
        f"{torch.get_num_threads()} torch threads, torch {torch.__version__}",
        f"Corpus: {args.corpus} (generated, synthetic, NOT SONYC-UST)",
    ]

    start = time.perf_counter()
    existed = read_corpus_info(args.corpus) is not None
    generate_corpus(args.corpus)
    corpus_s = time.perf_counter() - start
    lines.append(
        f"- corpus: {'reused' if existed else f'generated in {corpus_s:.1f} s'}"
    )
    manifests = prepare_sonyc_ust(args.corpus, work / "manifests")
    hp = recipe_hparams(work)
    cache = FeatureCache(work / "features", hp["compute_features"], 44100)
    paths = [
        path
        for manifest in manifests.values()
        for path in manifest_audio(manifest, args.corpus)
    ]
    start = time.perf_counter()
    cache.fill(paths)
    fill_s = time.perf_counter() - start
    start = time.perf_counter()
    for path in paths[:50]:
        with torch.no_grad():
            hp["compute_features"](load_audio(path, 44100).unsqueeze(0))
    live_ms = (time.perf_counter() - start) / 50 * 1e3
    start = time.perf_counter()
    for path in paths[:50]:
        cache.load(path)
    hit_ms = (time.perf_counter() - start) / 50 * 1e3
    lines.append(
        f"- feature cache fill: {len(paths)} clips in {fill_s:.1f} s "
        f"({fill_s / len(paths) * 1e3:.1f} ms per clip); read + features "
        f"per clip {live_ms:.2f} ms, from the cache {hit_ms:.2f} ms"
    )
    times = {}
    for _ in range(args.rounds):
        for role in args.roles:
            for name in args.variants:
                if VARIANTS[name].get("student_only") and role != "student":
                    continue
                cmd = [
                    sys.executable,
                    __file__,
                    "--child",
                    role,
                    name,
                    f"--work={work}",
                    f"--corpus={args.corpus}",
                    f"--epochs={args.epochs}",
                ]
                out = subprocess.run(
                    cmd, check=True, capture_output=True, text=True
                ).stdout
                got = json.loads(out.strip().splitlines()[-1])
                times.setdefault((role, name), []).extend(got)
                print(role, name, [round(t, 2) for t in got], flush=True)

    lines += [
        "",
        "| model | pipeline | warm epoch (s), median | speed-up vs before |",
        "|---|---|---:|---:|",
    ]
    for role in args.roles:
        base = statistics.median(times[(role, "before")])
        for name in args.variants:
            if (role, name) not in times:
                continue
            med = statistics.median(times[(role, name)])
            lines.append(f"| {role} | {name} | {med:.2f} | {base / med:.2f}x |")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
