"""Every tutorial and example test runs once per backend: ``config.mode`` (the mode a
``function`` without ``mode=`` gets) is set to each available backend in turn. On the GPU,
functions return NumPy arrays (``config.gpu_outputs``), as Theano code run unchanged
expects."""

import pytest

import astsym
from tests.helpers import available_backends


@pytest.fixture(autouse=True, params=available_backends())
def default_backend(request):
    saved = astsym.config.mode, astsym.config.gpu_outputs
    astsym.config.mode, astsym.config.gpu_outputs = request.param, "numpy"
    yield request.param
    astsym.config.mode, astsym.config.gpu_outputs = saved
