"""Fixtures shared by the evaluation tests: one small trained checkpoint and its test-set evaluation."""

import pytest

from core.analysis import evaluation
from tests.trained_model import checkpoint_in, trained_run


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory, data_dir):
    return checkpoint_in(trained_run(tmp_path_factory.getbasetemp() / "trained", data_dir))


@pytest.fixture(scope="module")
def result(ckpt, fmnist):
    return evaluation.evaluate(ckpt, fmnist)
