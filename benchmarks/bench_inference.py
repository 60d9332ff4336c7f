#!/usr/bin/env python3
"""Real-time factor, model size and peak memory of the taggers; int8 quality.

For each preset (random weights: speed does not depend on them) and backend
(PyTorch eager, ONNX Runtime fp32, ONNX Runtime int8), one thread, it times
tagging 10 s clips of the corpus, features included (reading the WAV, log-mel
and model), and reports the real-time factor (seconds of compute per second
of audio, median over clips after a warm-up). Each (preset, backend) runs in
its own process, which reports its peak resident memory.

With ``--run`` (a finished run of the recipe, e.g. the main command's
student), it also exports that run to ONNX fp32 and int8 and scores both on
the run's test clips with the official coarse micro-AUPRC.

Usage:
> python benchmarks/bench_inference.py --corpus data/generated_corpus \\
      --run results/iusp_small/1234

Authors
 * speechbrain-iusp developers 2026
"""

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

BACKENDS = ("torch", "onnx fp32", "onnx int8")
PRESETS = ("tiny", "small", "medium", "teacher")
SAMPLE_RATE = 44100


def _fbank():
    """The recipe's log-mel features."""
    from speechbrain.lobes.features import Fbank

    return Fbank(
        sample_rate=SAMPLE_RATE,
        n_fft=2048,
        win_length=40,
        hop_length=40,
        n_mels=64,
        f_min=20,
        f_max=16000,
    )


def _export(preset, folder):
    """A random-weight preset as model.ckpt, model.onnx, model.int8.onnx."""
    from speechbrain_iusp.inference.onnx import export_onnx, quantize_int8
    from speechbrain_iusp.models import crnn_preset

    torch.manual_seed(0)
    model = crnn_preset(preset).eval()
    folder.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), folder / "model.ckpt")
    export_onnx(model, folder / "model.onnx", 64)
    quantize_int8(folder / "model.onnx", folder / "model.int8.onnx")
    return model


def child(args):
    """Times one (preset, backend) in this process; prints JSON."""
    from speechbrain_iusp.features import load_audio
    from speechbrain_iusp.inference.onnx import onnx_session, run_onnx
    from speechbrain_iusp.models import crnn_preset

    preset, backend = args.child
    torch.set_num_threads(1)
    folder = Path(args.work) / preset
    fbank = _fbank()
    if backend == "torch":
        model = crnn_preset(preset).eval()
        model.load_state_dict(
            torch.load(
                folder / "model.ckpt", map_location="cpu", weights_only=True
            )
        )

        def predict(feats):
            with torch.no_grad():
                return torch.sigmoid(model(feats))

    else:
        name = "model.onnx" if backend == "onnx fp32" else "model.int8.onnx"
        session = onnx_session(folder / name, threads=1)

        def predict(feats):
            return run_onnx(session, feats)

    clips = sorted(Path(args.corpus, "audio-eval").glob("*.wav"))
    clips = clips[: args.clips]
    times = []
    for i, path in enumerate([clips[0], clips[0], *clips]):
        start = time.perf_counter()
        wav = load_audio(path, SAMPLE_RATE)
        with torch.no_grad():
            feats = fbank(wav.unsqueeze(0))
        predict(feats)
        elapsed = time.perf_counter() - start
        if i >= 2:  # after two warm-up passes
            times.append(elapsed / (wav.numel() / SAMPLE_RATE))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"rtf": statistics.median(times), "peak_mib": peak}))


def int8_quality(run, work):
    """Test micro-AUPRC of a run exported to ONNX fp32 and int8."""
    import numpy as np

    from speechbrain_iusp.export import export_run
    from speechbrain_iusp.features import load_audio
    from speechbrain_iusp.inference.onnx import onnx_session, run_onnx
    from speechbrain_iusp.sonyc import evaluate_coarse

    model_dir = Path(work) / "run_model"
    export_run(run, model_dir, onnx=True, quantize="int8")
    info = json.loads((Path(run) / "run_info.json").read_text())
    with open(Path(run) / "save" / "test.json") as fin:
        entries = list(json.load(fin).values())
    fbank = _fbank()
    sessions = {
        "fp32": onnx_session(model_dir / "model.onnx", 1),
        "int8": onnx_session(model_dir / "model.int8.onnx", 1),
    }
    scores = {name: [] for name in sessions}
    truth = []
    for entry in entries:
        path = entry["wav"].replace("{data_root}", info["data_folder"])
        with torch.no_grad():
            feats = fbank(load_audio(path, SAMPLE_RATE).unsqueeze(0))
        for name, session in sessions.items():
            scores[name].append(run_onnx(session, feats)[0, 29:].numpy())
        truth.append(entry["coarse"])
    truth = np.array(truth)
    return {
        name: evaluate_coarse(truth, np.array(values))["micro_auprc"]
        for name, values in scores.items()
    }


def main():
    """Runs the benchmark; prints a Markdown report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", default="data/generated_corpus")
    parser.add_argument("--run", default=None)
    parser.add_argument("--presets", nargs="+", default=list(PRESETS))
    parser.add_argument("--clips", type=int, default=20)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args)
    work = Path(tempfile.mkdtemp(prefix="bench_inference_"))
    lines = [
        f"Machine: {platform.machine()}, 1 thread, torch {torch.__version__}",
        f"Clips: {args.clips} 10 s clips of {args.corpus} (generated, "
        "synthetic, NOT SONYC-UST)",
        "",
        "| preset | backend | RTF (features included) | ms per 10 s clip "
        "| model file | peak RSS |",
        "|---|---|---:|---:|---:|---:|",
    ]
    files = {
        "torch": "model.ckpt",
        "onnx fp32": "model.onnx",
        "onnx int8": "model.int8.onnx",
    }
    for preset in args.presets:
        _export(preset, work / preset)
        for backend in BACKENDS:
            out = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--child",
                    preset,
                    backend,
                    f"--work={work}",
                    f"--corpus={args.corpus}",
                    f"--clips={args.clips}",
                ],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            got = json.loads(out.strip().splitlines()[-1])
            size = os.path.getsize(work / preset / files[backend]) / 1e3
            lines.append(
                f"| {preset} | {backend} | {got['rtf']:.5f} | "
                f"{got['rtf'] * 1e4:.1f} | {size:.0f} kB | "
                f"{got['peak_mib']:.0f} MiB |"
            )
            print(lines[-1], flush=True)
    if args.run:
        quality = int8_quality(args.run, work)
        lines += [
            "",
            f"Test coarse micro-AUPRC of {args.run}: ONNX fp32 "
            f"{quality['fp32']:.4f}, int8 {quality['int8']:.4f} "
            f"(int8 - fp32 = {quality['int8'] - quality['fp32']:+.4f}).",
        ]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
