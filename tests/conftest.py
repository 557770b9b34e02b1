"""Shared test settings: hypothesis profiles sized for a 2-core CI machine."""

import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("dev", max_examples=15, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True, scope="session")
def _private_kernel_cache(tmp_path_factory):
    """Compiled kernels go to a folder of this session, never the user's cache (the
    environment variable reaches the examples' own processes)."""
    import astsym

    folder = str(tmp_path_factory.mktemp("astsym-cache"))
    saved = astsym.config.cache_dir, os.environ.get("ASTSYM_CACHE_DIR")
    astsym.config.cache_dir = os.environ["ASTSYM_CACHE_DIR"] = folder
    yield folder
    astsym.config.cache_dir = saved[0]
    if saved[1] is None:
        os.environ.pop("ASTSYM_CACHE_DIR", None)
    else:
        os.environ["ASTSYM_CACHE_DIR"] = saved[1]


if os.environ.get("ASTSYM_TEST_GPU") == "host":
    # the whole differential suite on the gpu backend, with CuPy played by the host
    # stand-in (tests/gpu_host): slow (every kernel is compiled by g++), for checking the
    # gpu backend on a machine without a GPU
    from gpu_host import cupy_on_host

    from astsym.runtime.device import use_array_module

    _HOST_GPU = use_array_module(cupy_on_host)  # kept: its exit would take it away
    _HOST_GPU.__enter__()
