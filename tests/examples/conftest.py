"""Every tutorial and example test runs once per backend: ``config.mode`` (the mode a
``function`` without ``mode=`` gets) is set to each available backend in turn."""

import pytest

import astsym
from tests.helpers import available_backends


@pytest.fixture(autouse=True, params=available_backends())
def default_backend(request):
    saved = astsym.config.mode
    astsym.config.mode = request.param
    yield request.param
    astsym.config.mode = saved
