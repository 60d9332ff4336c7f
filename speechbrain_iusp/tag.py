"""Tag recordings with an exported model folder.

Usage::

    python -m speechbrain_iusp.tag --model MODEL_DIR PATH [PATH ...]
        [--csv OUT.csv] [--json OUT.json] [--window S --hop S]
        [--backend torch|onnx] [--threads N]

A PATH is an audio file or a folder (searched recursively for .wav, .flac
and .ogg files). For each file it prints the tags at or above their
threshold (or the three most probable). ``--csv`` writes the official
SONYC-UST prediction format (``python -m speechbrain_iusp.evaluate`` scores
it), ``--json`` every score and, for long recordings, the timeline of
windows. A file that cannot be tagged is reported by name and the others
are still tagged; the exit status is then 2.

Authors
 * speechbrain-iusp developers 2026
"""

import argparse
import json
import logging
import sys
from pathlib import Path

import torch

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg")


def expand_paths(paths):
    """Audio files of the given files and folders, in a stable order.

    Arguments
    ---------
    paths : list of str
        Files and folders.

    Returns
    -------
    list of Path
        Files (a given file is kept whatever its suffix).
    """
    files = []
    for path in map(Path, paths):
        if path.is_dir():
            files += sorted(
                p
                for p in path.rglob("*")
                if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES
            )
        else:
            files.append(path)
    return files


def load_tagger(model_dir, backend="torch", threads=None):
    """The AudioTagger of a model folder, on the chosen backend.

    Arguments
    ---------
    model_dir : str
        A folder written by ``python -m speechbrain_iusp.export``.
    backend : str
        ``torch`` or ``onnx`` (``model.onnx`` through ONNX Runtime).
    threads : int, optional
        CPU threads.

    Returns
    -------
    AudioTagger
    """
    from speechbrain_iusp.inference import AudioTagger

    folder = Path(model_dir)
    needed = ["hyperparams.yaml", "model.ckpt"]
    if backend == "onnx":
        needed.append("model.onnx")
    missing = [name for name in needed if not (folder / name).is_file()]
    if missing:
        raise FileNotFoundError(
            f"{folder} is not a complete model folder: no {missing}. Write "
            "one with python -m speechbrain_iusp.export RUN_FOLDER "
            f"{folder}" + (" --onnx" if backend == "onnx" else "")
        )
    if threads:
        torch.set_num_threads(threads)
    tagger = AudioTagger.from_hparams(
        source=str(folder.resolve()), savedir=str(folder.resolve())
    )
    if backend == "onnx":
        tagger.use_onnx(folder / "model.onnx", threads=threads)
    return tagger


def main(argv=None):
    """Command-line entry point.

    Arguments
    ---------
    argv : list of str, optional
        Arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status (2 when a file could not be tagged).
    """
    parser = argparse.ArgumentParser(
        prog="python -m speechbrain_iusp.tag",
        description="Tag recordings with an exported model folder.",
    )
    parser.add_argument("--model", required=True, help="model folder")
    parser.add_argument("paths", nargs="+", help="audio files or folders")
    parser.add_argument("--csv", help="official SONYC-UST prediction CSV")
    parser.add_argument("--json", help="every score and window")
    parser.add_argument("--window", type=float, help="window length (s)")
    parser.add_argument("--hop", type=float, help="hop between windows (s)")
    parser.add_argument("--backend", choices=["torch", "onnx"], default="torch")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--progress", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    try:
        tagger = load_tagger(args.model, args.backend, args.threads)
    except (FileNotFoundError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    results, failed = [], 0
    for path in expand_paths(args.paths):
        try:
            result = tagger.tag_file(
                str(path), args.window, args.hop, progress=args.progress
            )
        except (OSError, ValueError) as err:
            print(f"error: {err}", file=sys.stderr)
            failed += 1
            continue
        results.append(result)
        shown = (
            result["tags"]
            or sorted(result["scores"], key=result["scores"].get, reverse=True)[
                :3
            ]
        )
        listing = ", ".join(f"{t} {result['scores'][t]:.2f}" for t in shown)
        kind = "tags" if result["tags"] else "no tag above threshold; top"
        print(f"{path}: {kind}: {listing}")
    if args.csv and results:
        from speechbrain_iusp.sonyc.predictions import write_predictions_csv

        write_predictions_csv(
            args.csv,
            [Path(r["file"]).name for r in results],
            [[r["scores"][t] for t in tagger.tags] for r in results],
            tagger.tags,
        )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 2 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
