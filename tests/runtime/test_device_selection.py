"""Choosing the device: ``config.device``, ``Mode(device=)``, ``mode='GPU'`` and
``@symbolic(device=)``; asking for a GPU where there is none is a clear error, never a
silent run on the CPU."""

import numpy as np
import pytest

import astsym
import astsym.tensor as T
from astsym import symbolic
from astsym.config import Config, config
from astsym.runtime import device as device_module
from astsym.runtime.device import GpuUnavailable, gpu_status, resolve_device
from astsym.runtime.mode import Mode, backend_status, get_mode

pytestmark = pytest.mark.skipif(
    gpu_status() is None, reason="these tests are about a machine without a GPU"
)


@pytest.fixture
def device_setting():
    saved = config.device
    yield
    config.device = saved


def test_gpu_status_says_why():
    reason = gpu_status()
    assert "CuPy" in reason
    assert backend_status("gpu") == reason
    assert backend_status("cpu") is None


def test_device_names_resolve():
    assert resolve_device("cpu") == "cpu"
    assert resolve_device("gpu") == "gpu"
    assert resolve_device("auto") == "cpu"  # no GPU here
    with pytest.raises(ValueError, match="unknown device 'tpu'"):
        resolve_device("tpu")


def test_mode_takes_a_device():
    assert Mode(device="gpu").linker == "gpu"
    assert Mode(device="gpu").device == "gpu"
    assert Mode(device="cpu").linker == "cpu"
    assert Mode(device="auto").linker == "cpu"
    assert Mode("cuda").linker == "gpu"
    assert get_mode("GPU") == Mode("gpu") == get_mode("gpu")
    with pytest.raises(ValueError, match="does not run on device"):
        Mode(linker="py", device="gpu")
    with pytest.raises(ValueError, match="unknown device"):
        Mode(device="tpu")


@pytest.mark.parametrize("mode", ["GPU", "gpu", Mode(device="gpu")])
def test_asking_for_the_gpu_without_one_is_an_error(mode):
    x = T.dvector("x")
    with pytest.raises(GpuUnavailable, match="the gpu backend cannot run: CuPy"):
        astsym.function([x], x * 2, mode=mode)


def test_config_device_gpu_is_an_error_not_a_cpu_run(device_setting):
    x = T.dvector("x")
    config.device = "gpu"
    with pytest.raises(GpuUnavailable):
        astsym.function([x], x * 2)
    assert get_mode(None).linker == "gpu"


def test_config_device_auto_falls_back_to_the_cpu(device_setting):
    x = T.dvector("x")
    config.device = "auto"
    f = astsym.function([x], x * 2)
    assert f.mode.linker == "cpu"
    np.testing.assert_allclose(f(np.arange(3.0)), [0.0, 2.0, 4.0])


def test_device_from_the_environment():
    assert Config({"ASTSYM_DEVICE": "gpu"}).device == "gpu"
    assert Config({"ASTSYM_FLAGS": "device=auto"}).device == "auto"
    with pytest.raises(ValueError, match="config.device"):
        Config({"ASTSYM_DEVICE": "tpu"})


def test_symbolic_device():
    @symbolic(device="gpu")
    def double(x):
        return x * 2

    with pytest.raises(GpuUnavailable):
        double(np.arange(3.0))

    @symbolic(device="cpu")
    def triple(x):
        return x * 3

    np.testing.assert_allclose(triple(np.arange(3.0)), [0.0, 3.0, 6.0])
    with pytest.raises(ValueError, match="device= or mode="):
        symbolic(device="cpu", mode="py")(lambda x: x)
    with pytest.raises(ValueError, match="unknown device"):
        symbolic(device="tpu")(lambda x: x)


def test_the_array_module_can_be_substituted_only_inside_the_block():
    class StandIn:
        ndarray = type("ndarray", (), {})

    with device_module.use_array_module(StandIn):
        assert gpu_status() is None
        assert device_module.array_module() is StandIn
    assert gpu_status() is not None
    with pytest.raises(GpuUnavailable):
        device_module.array_module()
