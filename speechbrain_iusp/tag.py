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
windows. Output folders are created.

Everything is checked before any tagging: the arguments, the output paths,
the model folder, and every file's header and length. Bad files are named
and the good ones are still tagged. Rows are keyed by the file's name; when
two files share a name, their rows are keyed by their paths relative to the
folder that holds them all, and the command says so.

``--backend torch`` runs the folder's ``hyperparams.yaml`` (hyperpyyaml can
call any Python function: use it on folders you trust); ``--backend onnx``
reads only ``tagger.json`` and ``model.onnx``.

Exit status: 0 every file was tagged; 1 some files could not be tagged (they
are named, the others are tagged and written); 2 nothing was tagged (bad
arguments, output path or model folder, or no file that can be tagged).

Authors
 * speechbrain-iusp developers 2026
"""

import argparse
import json
import logging
import os
import sys
from pathlib import Path

import torch

from speechbrain_iusp.paths import check_output

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg")
EXIT_OK, EXIT_SOME_FAILED, EXIT_NOTHING_TAGGED = 0, 1, 2


def expand_paths(paths):
    """Audio files of the given files and folders, and the problems found.

    Arguments
    ---------
    paths : list of str
        Files and folders.

    Returns
    -------
    files : list of Path
        Files in a stable order (a given file is kept whatever its suffix;
        a file given twice is kept once).
    problems : list of str
        A message per path that does not exist or folder without audio.

    Example
    -------
    >>> tmp = Path(getfixture("tmpdir"))
    >>> (tmp / "a.wav").write_bytes(b"")
    0
    >>> files, problems = expand_paths([tmp, tmp / "a.wav", tmp / "b.wav"])
    >>> [f.name for f in files], problems
    (['a.wav'], ['... no such file or folder'])
    """
    files, problems, seen = [], [], set()
    for path in map(Path, paths):
        if path.is_dir():
            found = sorted(
                p
                for p in path.rglob("*")
                if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES
            )
            if not found:
                problems.append(
                    f"{path}: no {'/'.join(AUDIO_SUFFIXES)} files in this "
                    "folder"
                )
        elif path.is_file():
            found = [path]
        else:
            problems.append(f"{path}: no such file or folder")
            found = []
        for file in found:
            key = file.resolve()
            if key not in seen:
                seen.add(key)
                files.append(file)
    return files, problems


def row_names(files):
    """A unique row name per file, and a note when names had to change.

    The name is the file's base name; when base names clash, every file is
    named by its path relative to the deepest folder that holds them all.

    Arguments
    ---------
    files : list of Path
        Distinct files.

    Returns
    -------
    names : list of str
    note : str or None

    Example
    -------
    >>> row_names([Path("/d/x/a.wav"), Path("/d/y/a.wav")])[0]
    ['x/a.wav', 'y/a.wav']
    >>> row_names([Path("/d/x/a.wav"), Path("/d/y/b.wav")])
    (['a.wav', 'b.wav'], None)
    """
    names = [f.name for f in files]
    clashes = sorted({n for n in names if names.count(n) > 1})
    if not clashes:
        return names, None
    full = [f.resolve() for f in files]
    root = Path(os.path.commonpath([p.parent for p in full]))
    names = [p.relative_to(root).as_posix() for p in full]
    note = (
        f"{len(clashes)} file name(s) occur in several folders "
        f"({', '.join(clashes[:3])}{', ...' if len(clashes) > 3 else ''}); "
        f"every row is keyed by its path relative to {root}"
    )
    return names, note


def load_tagger(model_dir, backend="torch", threads=None):
    """The tagger of a model folder, on the chosen backend.

    Arguments
    ---------
    model_dir : str
        A folder written by ``python -m speechbrain_iusp.export``.
    backend : str
        ``torch`` (:class:`AudioTagger`, runs ``hyperparams.yaml``) or
        ``onnx`` (:class:`OnnxTagger`, reads ``tagger.json`` and
        ``model.onnx`` only).
    threads : int, optional
        CPU threads.

    Returns
    -------
    AudioTagger or OnnxTagger
    """
    from speechbrain_iusp.inference import AudioTagger, OnnxTagger

    folder = Path(model_dir)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such model folder")
    if threads:
        torch.set_num_threads(threads)
    if backend == "onnx":
        return OnnxTagger(folder, threads=threads)
    needed = ["hyperparams.yaml", "model.ckpt"]
    missing = [name for name in needed if not (folder / name).is_file()]
    if missing:
        hint = (
            f" ({folder} looks like a run folder: its model folder is "
            f"{folder / 'model'})"
            if (folder / "model" / "hyperparams.yaml").is_file()
            else ""
        )
        raise FileNotFoundError(
            f"{folder} is not a complete model folder: no {missing}{hint}. "
            "Write one with python -m speechbrain_iusp.export RUN_FOLDER "
            f"{folder}"
        )
    return AudioTagger.from_hparams(
        source=str(folder.resolve()), savedir=str(folder.resolve())
    )


def _parser():
    parser = argparse.ArgumentParser(
        prog="python -m speechbrain_iusp.tag",
        description="Tag recordings with an exported model folder.",
        epilog=(
            "exit status: 0 every file tagged; 1 some files could not be "
            "tagged (named; the others are tagged and written); 2 nothing "
            "tagged (bad arguments, output path or model folder, or no file "
            "that can be tagged)"
        ),
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
    return parser


def _error(message):
    print(f"error: {message}", file=sys.stderr)


def main(argv=None):
    """Command-line entry point.

    Arguments
    ---------
    argv : list of str, optional
        Arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status: 0, 1 or 2 (see the module docstring).
    """
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    problems = [
        f"--{name} must be > 0, not {value}"
        for name, value in (
            ("window", args.window),
            ("hop", args.hop),
            ("threads", args.threads),
        )
        if value is not None and not value > 0
    ]
    problems += [
        message
        for option, path in (("--csv", args.csv), ("--json", args.json))
        if path and (message := check_output(path, option))
    ]
    if problems:
        for message in problems:
            _error(message)
        return EXIT_NOTHING_TAGGED
    try:
        tagger = load_tagger(args.model, args.backend, args.threads)
    except (OSError, ValueError) as err:
        _error(err)
        return EXIT_NOTHING_TAGGED
    if args.csv:
        from speechbrain_iusp.sonyc import prediction_columns

        foreign = sorted(set(tagger.tags) - set(prediction_columns()))
        if foreign:
            _error(
                f"--csv writes the SONYC-UST prediction format, and this "
                f"model's tags {foreign[:3]} are not SONYC-UST tags; use "
                "--json"
            )
            return EXIT_NOTHING_TAGGED

    files, bad = expand_paths(args.paths)
    good = []
    for path in files:
        try:
            seconds = tagger.check_file(str(path))
            tagger.windows(seconds, args.window, args.hop)
        except (OSError, ValueError) as err:
            bad.append(str(err))
            continue
        good.append(path)
    for message in bad:
        _error(message)
    if not good:
        _error("no file to tag")
        return EXIT_NOTHING_TAGGED
    names, note = row_names(good)
    if note:
        print(f"note: {note}", file=sys.stderr)

    results, failed = [], len(bad)
    for path, name in zip(good, names, strict=True):
        try:
            result = tagger.tag_file(
                str(path), args.window, args.hop, progress=args.progress
            )
        except (OSError, ValueError, RuntimeError) as err:
            _error(err)
            failed += 1
            continue
        result["name"] = name
        results.append(result)
        scores = result["scores"]
        shown = (
            result["tags"] or sorted(scores, key=scores.get, reverse=True)[:3]
        )
        listing = ", ".join(f"{t} {scores[t]:.2f}" for t in shown)
        kind = "tags" if result["tags"] else "no tag above threshold; top"
        print(f"{path}: {kind}: {listing}")
    if results and args.csv:
        from speechbrain_iusp.sonyc.predictions import write_predictions_csv

        write_predictions_csv(
            args.csv,
            [r["name"] for r in results],
            [[r["scores"][t] for t in tagger.tags] for r in results],
            tagger.tags,
        )
    if results and args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    if not results:
        return EXIT_NOTHING_TAGGED
    if failed:
        print(
            f"{len(results)} file(s) tagged, {failed} could not be",
            file=sys.stderr,
        )
        return EXIT_SOME_FAILED
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
