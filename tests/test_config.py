"""Settings: defaults, ``ASTSYM_FLAGS`` and ``ASTSYM_FLOATX`` from the environment, and
changes at run time (Theano's ``config.floatX``)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import astsym
import astsym.tensor as T
from astsym.config import Config, config


@pytest.fixture
def float32_config():
    old = config.floatX
    config.floatX = "float32"
    try:
        yield config
    finally:
        config.floatX = old


def test_defaults():
    fresh = Config(environ={})
    assert fresh.floatX == "float64"
    assert fresh.device == "cpu"
    assert fresh.mode == "FAST_RUN"


def test_process_config_is_exported():
    assert astsym.config is config
    assert config.floatX in ("float64", "float32", "float16")


def test_flags_variable():
    assert Config(environ={"ASTSYM_FLAGS": "floatX=float32"}).floatX == "float32"
    flags = Config(environ={"ASTSYM_FLAGS": " floatX = float16 , device=cpu,"})
    assert (flags.floatX, flags.device) == ("float16", "cpu")


def test_single_variable():
    assert Config(environ={"ASTSYM_FLOATX": "float32"}).floatX == "float32"


def test_flags_win_over_single_variables():
    env = {"ASTSYM_FLAGS": "floatX=float16", "ASTSYM_FLOATX": "float32"}
    assert Config(environ=env).floatX == "float16"


def test_reading_a_config_does_not_change_the_process_config():
    before = config.floatX
    Config(environ={"ASTSYM_FLAGS": "floatX=float16"})
    assert config.floatX == before


def test_runtime_floatx_changes_default_dtypes(float32_config):
    assert T.scalar().dtype == "float32"
    assert T.matrix("m").dtype == "float32"
    assert T.dscalar().dtype == "float64"  # prefixed constructors keep their dtype
    assert T.vector(dtype="int32").dtype == "int32"
    x = T.scalar("x")
    out = astsym.function([x], x * 0.5)(3.0)
    assert out.dtype == np.float32


def test_floatx_restored_by_fixture():
    assert T.scalar().dtype == config.floatX


@pytest.mark.parametrize(
    "env, setting",
    [
        ({"ASTSYM_FLAGS": "floatX=int32"}, "floatX"),
        ({"ASTSYM_FLOATX": "double"}, "floatX"),
        ({"ASTSYM_FLAGS": "device=tpu"}, "device"),
        ({"ASTSYM_FLAGS": "mode=FASTEST"}, "mode"),
    ],
)
def test_invalid_environment_value_names_setting(env, setting):
    with pytest.raises(ValueError, match=f"config.{setting}"):
        Config(environ=env)


@pytest.mark.parametrize("name, value", [("floatX", "float128"), ("device", "tpu")])
def test_invalid_runtime_value_names_setting_and_keeps_old(name, value):
    old = getattr(config, name)
    with pytest.raises(ValueError, match=name):
        setattr(config, name, value)
    assert getattr(config, name) == old


@pytest.mark.parametrize("flags", ["floatX", "floatX=float32,device", "=float32"])
def test_malformed_flags_entry_raises(flags):
    with pytest.raises(ValueError, match="ASTSYM_FLAGS"):
        Config(environ={"ASTSYM_FLAGS": flags})


def test_unknown_flag_warns():
    with pytest.warns(UserWarning, match="floatx"):
        cfg = Config(environ={"ASTSYM_FLAGS": "floatx=float32"})
    assert cfg.floatX == "float64"


def test_known_flags_do_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Config(environ={"ASTSYM_FLAGS": "floatX=float32,device=cpu,mode=py"})


def test_unknown_setting_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no_such_setting"):
        _ = config.no_such_setting
