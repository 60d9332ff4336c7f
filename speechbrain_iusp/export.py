"""Turn a finished run of the recipe into a self-contained model folder.

Usage::

    python -m speechbrain_iusp.export RUN_FOLDER MODEL_DIR [--onnx]
        [--quantize int8] [--thresholds fixed|validate]

``MODEL_DIR`` then holds:

* ``hyperparams.yaml``: the inference hparams SpeechBrain expects
  (``compute_features``, ``model``, ``modules``, ``pretrainer``,
  ``audio_normalizer`` at the model's rate) plus the tag names, their
  thresholds, the sample rate and the clip length;
* ``tagger.json``: the same description as plain data (tags, thresholds,
  sample rate, clip length, feature settings), which the ONNX backend reads
  instead of running the YAML;
* ``model.ckpt``: the weights of the run's best checkpoint (by its
  selection key);
* ``custom.py``: for ``foreign_class(source=MODEL_DIR,
  pymodule_file="custom.py", classname="AudioTagger")``;
* ``README.md``: a model card (data, metrics, parameters, MACs, exports);
* with ``--onnx``: ``model.onnx`` (log-mels to probabilities of full-length
  inputs, dynamic batch and time axes), checked against PyTorch on real
  clips of the run's test split at 3 s, 10 s and 30 s; with ``--onnx
  --quantize int8`` also ``model.int8.onnx``.

Authors
 * speechbrain-iusp developers 2026
"""

import argparse
import io
import json
import logging
import os
import shutil
import sys
from pathlib import Path

import numpy as np
import ruamel.yaml
import torch
from hyperpyyaml import load_hyperpyyaml

from speechbrain.utils.checkpoints import Checkpointer

from speechbrain_iusp.features import load_audio
from speechbrain_iusp.inference.spec import feature_spec, write_spec
from speechbrain_iusp.runs.folder import RunFolder

logger = logging.getLogger(__name__)

_INFERENCE_KEYS = ("sample_rate", "compute_features", "model")
_CUSTOM_PY = '''"""Loads this model folder with SpeechBrain's foreign_class."""

from speechbrain_iusp.inference import AudioTagger  # noqa: F401
'''


def _inference_blocks(text):
    """The YAML text of the inference entries of a run's resolved hparams,
    and its selection key.

    Arguments
    ---------
    text : str
        The run's ``hyperparams.yaml``.

    Returns
    -------
    blocks : dict
        Key -> its entry as YAML text (tags kept, anchors dropped).
    selection_key : str

    Example
    -------
    >>> text = "sample_rate: 16000\\nmodel: &id001 !new:torch.nn.Linear\\n"
    >>> text += "    in_features: 2\\n    out_features: 1\\n"
    >>> text += "compute_features: null\\nselection_key: loss\\n"
    >>> blocks, key = _inference_blocks(text)
    >>> print(blocks["model"])
    model: !new:torch.nn.Linear
      in_features: 2
      out_features: 1
    >>> key
    'loss'
    """
    doc = ruamel.yaml.YAML().load(text)
    missing = [k for k in _INFERENCE_KEYS if k not in doc]
    if missing:
        raise ValueError(f"the run's hyperparams.yaml has no {missing}")
    blocks = {}
    for key in _INFERENCE_KEYS:
        value = doc[key]
        _strip(value)
        buf = io.StringIO()
        ruamel.yaml.YAML().dump({key: value}, buf)
        blocks[key] = buf.getvalue().rstrip()
    return blocks, str(doc.get("selection_key") or "micro_auprc")


def _strip(node):
    """Drops the anchors and comments of a ruamel node, recursively (the
    run's aliases and the comments of its other entries are not copied)."""
    if hasattr(node, "yaml_set_anchor"):
        node.anchor.value = None
    if hasattr(node, "ca"):
        node.ca.items.clear()
        node.ca.comment = None
    children = node.values() if isinstance(node, dict) else node
    if isinstance(node, (dict, list)):
        for child in children:
            _strip(child)


def best_threshold(scores, truth):
    """The threshold of the best F1 of one tag (0.5 without positives).

    Arguments
    ---------
    scores : numpy.ndarray
        ``[N]`` probabilities.
    truth : numpy.ndarray
        ``[N]`` 0/1 targets.

    Returns
    -------
    float

    Example
    -------
    >>> best_threshold(np.array([0.9, 0.6, 0.3, 0.2]), np.array([1, 1, 0, 0]))
    0.6
    """
    truth = truth.astype(bool)
    if not truth.any():
        return 0.5
    best, best_f1 = 0.5, -1.0
    for threshold in np.unique(scores):
        pred = scores >= threshold
        tp = float((pred & truth).sum())
        f1 = 2 * tp / (pred.sum() + truth.sum())
        if f1 > best_f1:
            best, best_f1 = float(threshold), f1
    return best


def _validate_thresholds(run, tags):
    """Per-tag thresholds of best validate F1, from the run's predictions."""
    names, fine, coarse = run.predictions("validate")
    scores = np.concatenate([fine, coarse], axis=1)
    manifest = {
        v["audio_filename"]: v for v in run.manifest("validate").values()
    }
    truth = np.array(
        [manifest[n]["fine"] + manifest[n]["coarse"] for n in names]
    )
    return [best_threshold(scores[:, j], truth[:, j]) for j in range(len(tags))]


def _test_clips(run, data_folder, count=3):
    """Audio paths of the first clips of the run's test manifest."""
    entries = list(run.manifest("test").values())[:count]
    return [e["wav"].replace("{data_root}", str(data_folder)) for e in entries]


def export_run(
    run_folder,
    model_dir,
    onnx=False,
    quantize=None,
    thresholds="fixed",
    save_folder=None,
):
    """Exports a finished run to a model folder (see the module docstring).

    Arguments
    ---------
    run_folder : str
        A run of the DCASE2019 recipe that finished (has ``metrics.json``).
    model_dir : str
        The folder to write.
    onnx : bool
        Also write and verify ``model.onnx``.
    quantize : str, optional
        ``"int8"``: also write ``model.int8.onnx`` (needs ``onnx``).
    thresholds : str
        ``"fixed"`` (0.5 for every tag) or ``"validate"`` (per tag, the best
        F1 on the run's validate predictions).
    save_folder : str, optional
        Where the run's checkpoints are (default ``RUN_FOLDER/save``; a
        SpeechBrain ``--debug`` run keeps them in a temporary folder).

    Returns
    -------
    dict
        What was written and checked (also in ``export.json``).
    """
    run, out = RunFolder(run_folder), Path(model_dir)
    metrics = run.metrics()  # NotFinished names the folder and the fix
    if quantize not in (None, "int8"):
        raise ValueError(f"--quantize must be int8, not {quantize!r}")
    if quantize and not onnx:
        raise ValueError("--quantize int8 quantises the ONNX model: add --onnx")
    if thresholds not in ("fixed", "validate"):
        raise ValueError(f"thresholds must be fixed or validate: {thresholds}")
    info = run.info()
    text = run.hparams_path.read_text()
    blocks, selection_key = _inference_blocks(text)
    hp = load_hyperpyyaml("\n".join(blocks.values()))
    model = hp["model"]
    save = Path(save_folder or run.save)
    checkpointer = Checkpointer(str(save), {"model": model})
    found = checkpointer.recover_if_possible(max_key=selection_key)
    if found is None:
        raise FileNotFoundError(f"no checkpoint in {save}")
    model.eval()

    from speechbrain_iusp.sonyc import prediction_columns

    tags = prediction_columns()
    values = (
        _validate_thresholds(run, tags)
        if thresholds == "validate"
        else [0.5] * len(tags)
    )
    out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(found.paramfiles["model"], out / "model.ckpt")
    clip_seconds = 10.0
    yaml_text = "\n".join(
        [
            "# Inference hparams of a tagger exported from "
            f"{run.path.resolve()} (speechbrain_iusp.export).",
            "# Load: AudioTagger.from_hparams(source=<this folder>)",
            blocks["sample_rate"],
            f"clip_seconds: {clip_seconds}",
            "",
            "# load_audio mixes to mono and resamples to the model's rate",
            "audio_normalizer: !new:speechbrain.dataio.preprocess."
            "AudioNormalizer",
            "    sample_rate: !ref <sample_rate>",
            "",
            blocks["compute_features"],
            "",
            blocks["model"],
            "",
            f"tags: {json.dumps(tags)}",
            f"thresholds: {json.dumps([round(v, 6) for v in values])}",
            "",
            "modules:",
            "    model: !ref <model>",
            "",
            "# model.ckpt comes from the folder given as from_hparams' source",
            "pretrainer: !new:speechbrain.utils.parameter_transfer.Pretrainer",
            "    loadables:",
            "        model: !ref <model>",
            "",
        ]
    )
    (out / "hyperparams.yaml").write_text(yaml_text)
    (out / "custom.py").write_text(_CUSTOM_PY)
    write_spec(
        out,
        tags,
        [round(v, 6) for v in values],
        hp["sample_rate"],
        clip_seconds,
        feature_spec(blocks["compute_features"]),
    )
    report = {
        "run": str(run.path.resolve()),
        "checkpoint": str(found.path),
        "thresholds": thresholds,
        "files": [
            "hyperparams.yaml",
            "tagger.json",
            "model.ckpt",
            "custom.py",
            "README.md",
        ],
    }
    if onnx:
        report["onnx"] = _export_onnx(model, hp, out, run, info, quantize)
        report["files"] += ["model.onnx"] + (
            ["model.int8.onnx"] if quantize else []
        )
    (out / "README.md").write_text(
        _model_card(run, info, metrics, report, thresholds)
    )
    (out / "export.json").write_text(json.dumps(report, indent=2))
    return report


def _export_onnx(model, hp, out, run, info, quantize):
    """model.onnx (and its int8 copy), checked on real clips."""
    from speechbrain_iusp.inference.onnx import (
        export_onnx,
        quantize_int8,
        verify_onnx,
    )

    sample_rate = hp["sample_rate"]
    wavs = [
        load_audio(p, sample_rate)
        for p in _test_clips(run, info["data_folder"])
    ]
    whole = torch.cat(wavs)
    inputs = {}
    for seconds in (3, 10, 30):
        n = seconds * sample_rate
        wav = (
            whole[:n]
            if whole.numel() >= n
            else whole.repeat(n // whole.numel() + 1)[:n]
        )
        with torch.no_grad():
            inputs[seconds] = hp["compute_features"](wav.unsqueeze(0))
    n_mels = inputs[10].shape[-1]
    path = out / "model.onnx"
    export_onnx(model, path, n_mels)
    try:
        diffs = {s: verify_onnx(model, path, [x]) for s, x in inputs.items()}
        axis = "dynamic"
    except ValueError as err:
        logger.warning("%s; exporting with a fixed 10 s time axis", err)
        export_onnx(model, path, n_mels, frames=inputs[10].shape[1])
        diffs = {10: verify_onnx(model, path, [inputs[10]])}
        axis = f"fixed ({inputs[10].shape[1]} frames = 10 s; use windows)"
    result = {
        "time_axis": axis,
        "max_abs_diff_vs_pytorch": {f"{s} s": d for s, d in diffs.items()},
        "bytes": os.path.getsize(path),
    }
    if quantize:
        qpath = out / "model.int8.onnx"
        quantize_int8(path, qpath)
        result["int8_bytes"] = os.path.getsize(qpath)
    return result


def _model_card(run, info, metrics, report, thresholds):
    """The README.md of a model folder."""
    data = info["data_folder"]
    generated = (Path(data) / "corpus_info.json").is_file()
    source = (
        f"the generated corpus in {data} (synthetic, NOT SONYC-UST)"
        if generated
        else f"the data in {data}"
    )
    rows = []
    for split in ("validate", "test"):
        for mode in ("coarse", "fine"):
            m = metrics[split][mode]
            rows.append(
                f"| {split} | {mode} | {m['micro_auprc']:.4f} | "
                f"{m['macro_auprc']:.4f} | {m['micro_f1']:.4f} |"
            )
    lines = [
        "# Urban sound tagger (SONYC-UST taxonomy)",
        "",
        f"Exported from the run `{run.path.resolve()}` by "
        "`speechbrain_iusp.export`.",
        f"Trained on {source}.",
        "",
        "```python",
        "from speechbrain_iusp.inference import AudioTagger",
        'tagger = AudioTagger.from_hparams(source="<this folder>")',
        'print(tagger.tag_file("recording.wav")["tags"])',
        "```",
        "",
        "Command line: `python -m speechbrain_iusp.tag --model <this folder> "
        "recording.wav`.",
        "",
        f"- Parameters: {metrics['params']:,}; "
        f"{metrics['macs_per_10s'] / 1e6:.1f} M multiply-accumulates per "
        "10 s clip.",
        "- Outputs: 37 probabilities, the 29 fine tags then the 8 coarse tags "
        "(`hyperparams.yaml`, `tags`).",
        f"- Thresholds: {thresholds} "
        + (
            "(per tag, the best F1 on the validate split)"
            if thresholds == "validate"
            else "(0.5 for every tag)"
        )
        + ".",
        "",
        "Official DCASE 2019 Task 5 metrics of the run:",
        "",
        "| split | level | micro-AUPRC | macro-AUPRC | micro-F1 |",
        "|---|---|---:|---:|---:|",
        *rows,
    ]
    if "onnx" in report:
        onnx = report["onnx"]
        lines += [
            "",
            f"ONNX (`model.onnx`, {onnx['bytes'] / 1e3:.0f} kB): log-mel input "
            f"`logmel [batch, frames, bands]` of full-length clips, output "
            f"`probabilities`; time axis {onnx['time_axis']}. Largest "
            "difference from PyTorch on real clips: "
            f"{json.dumps(onnx['max_abs_diff_vs_pytorch'])}.",
            "",
            "`hyperparams.yaml` is run through hyperpyyaml, which can call "
            "any Python function: load this folder with `AudioTagger` only "
            "if you trust it. `OnnxTagger(<this folder>)` (or "
            "`python -m speechbrain_iusp.tag --backend onnx`) reads only "
            "`tagger.json` and `model.onnx`.",
        ]
        if "int8_bytes" in onnx:
            lines.append(
                f"int8 copy (`model.int8.onnx`): {onnx['int8_bytes'] / 1e3:.0f}"
                " kB (dynamic quantisation of the matrix products)."
            )
    return "\n".join(lines) + "\n"


def main(argv=None):
    """Command-line entry point.

    Arguments
    ---------
    argv : list of str, optional
        Arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status.
    """
    parser = argparse.ArgumentParser(
        prog="python -m speechbrain_iusp.export",
        description="Export a finished run to a self-contained model folder.",
    )
    parser.add_argument("run_folder")
    parser.add_argument("model_dir")
    parser.add_argument("--onnx", action="store_true")
    parser.add_argument("--quantize", choices=["int8"], default=None)
    parser.add_argument(
        "--thresholds", choices=["fixed", "validate"], default="fixed"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        report = export_run(
            args.run_folder,
            args.model_dir,
            onnx=args.onnx,
            quantize=args.quantize,
            thresholds=args.thresholds,
        )
    except (FileNotFoundError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
