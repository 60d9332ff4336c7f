"""Tests for the random-state recoverable and damaged teacher checkpoints.

Authors
 * speechbrain-iusp developers 2026
"""

import logging
import os
import random

import numpy as np
import pytest
import torch

from speechbrain.utils.checkpoints import Checkpointer

from speechbrain_iusp.distill import RandomState, load_teacher


def _draw():
    return (
        torch.rand(4).tolist(),
        np.random.standard_normal(3).tolist(),
        np.random.randint(0, 2**31, 3).tolist(),
        [random.random(), random.gauss(0, 1), random.gauss(0, 1)],
    )


def test_random_state_round_trip_is_bit_exact(tmp_path):
    torch.manual_seed(1)
    np.random.seed(2)
    random.seed(3)
    # leave a cached gaussian in numpy and gauss_next in python
    np.random.standard_normal()
    random.gauss(0, 1)
    assert np.random.get_state()[3] == 1
    assert random.getstate()[2] is not None

    path = tmp_path / "random_state.ckpt"
    RandomState()._save(str(path))
    expected = _draw()
    _draw()  # move every generator on
    RandomState()._recover(str(path), end_of_epoch=True)
    assert _draw() == expected

    saved = torch.load(path, map_location="cpu", weights_only=True)
    assert set(saved) == {"torch", "cuda", "numpy", "python"}


class _Marker:
    """Creates a file when unpickled."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_old_pickled_random_state_is_refused(tmp_path, caplog):
    path = tmp_path / "random_state.ckpt"
    marker = tmp_path / "code_ran"
    old = {
        "torch": torch.get_rng_state(),
        "cuda": [],
        "numpy": np.random.get_state(),
        "python": random.getstate(),
        "payload": _Marker(str(marker)),
    }
    torch.save(old, path)
    assert not marker.exists()

    before = torch.get_rng_state()
    with caplog.at_level(logging.WARNING):
        RandomState()._recover(str(path), end_of_epoch=True)
    assert not marker.exists()
    assert torch.equal(torch.get_rng_state(), before)
    text = caplog.text
    assert str(path) in text and "pickle" in text
    assert "other random numbers" in text


def test_zero_byte_teacher_checkpoint_is_named_by_file(tmp_path):
    save = tmp_path / "save"
    ckp = Checkpointer(str(save), {"model": torch.nn.Linear(2, 2)})
    ckp.save_checkpoint(meta={"micro_auprc": 0.5})
    (model_file,) = save.glob("CKPT*/model.ckpt")
    model_file.write_bytes(b"")

    with pytest.raises(RuntimeError) as info:
        load_teacher(torch.nn.Linear(2, 2), save, max_key="micro_auprc")
    message = str(info.value)
    assert str(model_file.resolve()) in message
    assert "empty" in message and "damaged" in message
    assert str(model_file.parent.resolve()) in message


def test_truncated_teacher_file_is_named(tmp_path):
    path = tmp_path / "model.ckpt"
    torch.save(torch.nn.Linear(2, 2).state_dict(), path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])

    with pytest.raises(RuntimeError, match="truncated") as info:
        load_teacher(
            torch.nn.Linear(2, 2), path, collect_in=str(tmp_path / "pt")
        )
    assert os.path.abspath(path) in str(info.value)
