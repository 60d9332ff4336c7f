"""Fixtures shared by the unit tests of the distillation machinery.

Authors
 * speechbrain-iusp developers 2026
"""

import pytest
import torch
from distill_toy import make_dataset


@pytest.fixture
def one_thread():
    """Torch on one thread for the test (the toy Brains' values do not
    depend on it, their speed does), then as it was."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def data():
    """The toy train and validation sets of ``distill_toy``."""
    return make_dataset(24, seed=0), make_dataset(16, seed=1, prefix="val")
