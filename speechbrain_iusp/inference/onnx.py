"""ONNX export of a tagger (log-mels in, probabilities out), verified, and
:class:`OnnxTagger`, which runs a model folder from data files only.

Authors
 * speechbrain-iusp developers 2026
"""

import logging
from pathlib import Path

import numpy as np
import torch

from speechbrain_iusp.features.audio import load_audio
from speechbrain_iusp.inference.spec import (
    SPEC_FILE,
    ModelFolderError,
    build_features,
    read_spec,
)
from speechbrain_iusp.inference.tagging import TaggerBase

logger = logging.getLogger(__name__)


class Probabilities(torch.nn.Module):
    """A tagger's sigmoid outputs for full-length inputs (the exported graph).

    Arguments
    ---------
    model : torch.nn.Module
        ``model(feats) -> logits``.
    """

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, logmel):
        """``[B, T, F]`` log-mels -> ``[B, n_tags]`` probabilities."""
        return torch.sigmoid(self.model(logmel))


def export_onnx(model, path, n_mels, frames=None, opset=17):
    """Exports ``model`` to ONNX with the TorchScript exporter.

    The graph maps log-mels ``[B, T, n_mels]`` (named ``logmel``) to
    probabilities ``[B, n_tags]`` (``probabilities``). The batch axis is
    dynamic; the time axis too unless ``frames`` is given. The legacy
    (TorchScript) exporter is used because the dynamo exporter of torch
    2.9-2.11 writes ``nn.GRU`` with the wrong ``linear_before_reset`` and
    freezes the time axis of recurrent layers; check the result with
    :func:`verify_onnx` in any case.

    Arguments
    ---------
    model : torch.nn.Module
        The tagger (``model(feats) -> logits``), put in eval mode.
    path : str
        Output ``.onnx`` file.
    n_mels : int
        Feature bands.
    frames : int, optional
        Fix the time axis to this many frames (None: dynamic).
    opset : int
        ONNX opset.
    """
    wrapper = Probabilities(model.eval()).eval()
    example = torch.randn(2, frames or 251, n_mels)  # batch 2: see pitfalls
    axes = {"logmel": {0: "batch"}, "probabilities": {0: "batch"}}
    if frames is None:
        axes["logmel"][1] = "frames"
    with torch.no_grad():
        torch.onnx.export(
            wrapper,
            (example,),
            str(path),
            input_names=["logmel"],
            output_names=["probabilities"],
            dynamic_axes=axes,
            opset_version=opset,
            dynamo=False,
        )


def onnx_session(path, threads=None):
    """An ONNX Runtime CPU session (``threads`` intra-op threads).

    Arguments
    ---------
    path : str
        The ``.onnx`` file.
    threads : int, optional
        Intra-op threads (None: ONNX Runtime's default).

    Returns
    -------
    onnxruntime.InferenceSession
    """
    import onnxruntime

    options = onnxruntime.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    return onnxruntime.InferenceSession(
        str(path), options, providers=["CPUExecutionProvider"]
    )


def run_onnx(session, feats):
    """Probabilities from an ONNX session for log-mels ``[B, T, F]``.

    Arguments
    ---------
    session : onnxruntime.InferenceSession
        From :func:`onnx_session`.
    feats : torch.Tensor or numpy.ndarray
        Log-mels.

    Returns
    -------
    torch.Tensor
        ``[B, n_tags]``.
    """
    array = np.ascontiguousarray(
        feats.detach().cpu().numpy() if torch.is_tensor(feats) else feats,
        dtype=np.float32,
    )
    return torch.from_numpy(session.run(None, {"logmel": array})[0])


def verify_onnx(model, path, inputs, atol=1e-4):
    """Largest absolute difference between ONNX Runtime and PyTorch.

    Arguments
    ---------
    model : torch.nn.Module
        The PyTorch tagger (eval mode).
    path : str
        The exported ``.onnx`` file.
    inputs : list of torch.Tensor
        Log-mels ``[B, T, F]`` to compare on (real clips, every length the
        graph claims to accept).
    atol : float
        The largest difference accepted.

    Returns
    -------
    float
        The largest absolute difference over every output of every input.

    Raises
    ------
    ValueError
        When a difference exceeds ``atol`` (the input's shape is named).
    """
    session = onnx_session(path)
    wrapper = Probabilities(model.eval()).eval()
    worst = 0.0
    for feats in inputs:
        with torch.no_grad():
            want = wrapper(feats)
        got = run_onnx(session, feats)
        diff = float((got - want).abs().max())
        worst = max(worst, diff)
        if not diff <= atol:
            raise ValueError(
                f"{path}: ONNX Runtime differs from PyTorch by {diff:.2e} "
                f"(> {atol}) on an input of shape {tuple(feats.shape)}"
            )
    return worst


def quantize_int8(src, dst):
    """Writes a dynamically int8-quantised copy of an ONNX model.

    Weights of the matrix products (MatMul, Gemm) and recurrent layers are
    stored as int8 and activations quantised on the fly (ONNX Runtime's
    ``quantize_dynamic``); convolutions stay float.

    Arguments
    ---------
    src : str
        The float model.
    dst : str
        The quantised copy.
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(src), str(dst), weight_type=QuantType.QInt8)


class OnnxTagger(TaggerBase):
    """The tagger of a model folder on ONNX Runtime, from data files only.

    It reads ``tagger.json`` (tags, thresholds, sample rate, feature
    settings) with :mod:`json` and ``model.onnx`` with ONNX Runtime; the
    folder's ``hyperparams.yaml`` and ``model.ckpt`` are not read, so
    nothing in the folder is executed as Python. The features are computed
    in PyTorch by an allow-listed SpeechBrain class
    (:data:`~speechbrain_iusp.inference.spec.FEATURE_CLASSES`). It has the
    interface of :class:`~speechbrain_iusp.inference.AudioTagger`
    (``tag_file``, ``tag_batch``, ``classify_file``, ``classify_batch``,
    ``forward``, windows for long recordings). The graph takes full-length
    inputs; the items of a padded batch are run one by one on their valid
    frames.

    Arguments
    ---------
    folder : str
        A model folder written by ``python -m speechbrain_iusp.export
        RUN_FOLDER MODEL_DIR --onnx``.
    threads : int, optional
        ONNX Runtime intra-op threads.
    model_file : str
        ``model.onnx``, or ``model.int8.onnx`` for the quantised copy.

    Usage (``tests/recipe/test_inference.py`` runs it on a real run)::

        tagger = OnnxTagger("results/iusp_small/1234/model_onnx")
        tagger.tag_file("street.wav")["tags"]
    """

    def __init__(self, folder, threads=None, model_file="model.onnx"):
        self.folder = Path(folder)
        spec = read_spec(self.folder)
        path = self.folder / model_file
        fix = (
            "write it with python -m speechbrain_iusp.export RUN_FOLDER "
            f"{self.folder} --onnx"
        )
        if not path.is_file():
            raise ModelFolderError(f"{path}: no such file; {fix}")
        try:
            self.session = onnx_session(path, threads)
        except Exception as err:  # onnxruntime raises its own types
            raise ModelFolderError(
                f"{path}: not a readable ONNX model "
                f"({str(err).splitlines()[0][:200]}); {fix}"
            ) from err
        self._spec = spec
        self.features = build_features(spec["features"])
        self.device = "cpu"
        self._check_graph(path)

    def _check_graph(self, path):
        """The graph's bands and outputs match tagger.json."""
        bands = self._spec["features"]["kwargs"].get("n_mels", 40)
        inputs = self.session.get_inputs()
        outputs = self.session.get_outputs()
        got_bands = inputs[0].shape[-1] if inputs else None
        got_tags = outputs[0].shape[-1] if outputs else None
        for what, got, want in (
            ("feature bands", got_bands, bands),
            ("outputs", got_tags, len(self.tags)),
        ):
            if isinstance(got, int) and got != want:
                raise ModelFolderError(
                    f"{path}: the graph has {got} {what}, {SPEC_FILE} "
                    f"says {want}; the two files come from different models"
                )

    @property
    def tags(self):
        """The output names."""
        return list(self._spec["tags"])

    @property
    def thresholds(self):
        """One decision threshold per tag."""
        return torch.tensor(self._spec["thresholds"], dtype=torch.float32)

    @property
    def sample_rate(self):
        """The rate the features take."""
        return int(self._spec["sample_rate"])

    @property
    def clip_seconds(self):
        """The clip length the model was trained on."""
        return float(self._spec["clip_seconds"])

    def load_audio(self, path):
        """A file as a mono waveform at the model's rate.

        Arguments
        ---------
        path : str
            Audio file.

        Returns
        -------
        torch.Tensor
            ``[samples]``.
        """
        return load_audio(path, self.sample_rate)

    def compute_features(self, wavs):
        """Features ``[B, T, F]`` of waveforms at the model's rate."""
        with torch.no_grad():
            return self.features(wavs)

    def _probabilities(self, feats, lengths):
        """``[B, n_tags]`` probabilities; padded items one at a time."""
        if bool((lengths >= 1).all()):
            return run_onnx(self.session, feats)
        frames = torch.round(lengths * feats.shape[1]).long().clamp(min=1)
        return torch.cat(
            [
                run_onnx(self.session, feats[i : i + 1, : int(n)])
                for i, n in enumerate(frames)
            ]
        )
