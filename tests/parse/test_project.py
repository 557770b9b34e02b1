"""File discovery and ``[tool.astsym]`` settings for ``astsym check``."""

from pathlib import Path

import pytest

from astsym.parse.project import (
    ConfigError,
    MissingPathError,
    Settings,
    discover,
    find_config,
    load_settings,
    settings_from,
)


def write(root: Path, rel: str, text: str = "x = 1\n") -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def rel_files(files: list[str], root: Path) -> list[str]:
    return [Path(f).resolve().relative_to(root.resolve()).as_posix() for f in files]


# -- find_config / settings ----------------------------------------------------------------


def test_find_config_walks_up_to_the_nearest_pyproject(tmp_path):
    write(tmp_path, "pyproject.toml", "[tool.astsym]\nstrict-dims = true\n")
    write(tmp_path, "pkg/sub/pyproject.toml", "[project]\nname = 'sub'\n")
    deep = tmp_path / "pkg" / "sub" / "a" / "b"
    deep.mkdir(parents=True)
    assert find_config(deep) == ((tmp_path / "pkg" / "sub").resolve(), {})
    assert find_config(tmp_path / "pkg") == (tmp_path.resolve(), {"strict-dims": True})


def test_find_config_without_any_pyproject(tmp_path, monkeypatch):
    monkeypatch.setattr(Path, "is_file", lambda self: False)  # hide any pyproject above tmp
    assert find_config(tmp_path) == (None, {})


def test_settings_read_every_key(tmp_path):
    table = {
        "include": ["*.py", "scripts/*.pyw"],
        "exclude": ["legacy"],
        "disable": ["AS206", "defined-in-one-branch", "as201"],
        "strict-dims": True,
    }
    settings = settings_from(table, tmp_path)
    assert settings.include == ("*.py", "scripts/*.pyw")
    assert settings.exclude == ("legacy",)
    assert settings.disable == {"AS206", "AS208", "AS201"}
    assert settings.strict_dims is True


def test_defaults_when_the_table_is_empty(tmp_path):
    settings = settings_from({}, tmp_path)
    assert settings == Settings(root=tmp_path)
    assert settings.include == ("*.py",) and not settings.disable and not settings.strict_dims


@pytest.mark.parametrize(
    ("table", "words"),
    [
        ({"strict_dims": True}, ["unknown key 'strict_dims'", "strict-dims"]),
        ({"select": ["AS201"]}, ["unknown key 'select'"]),
        ({"include": "*.py"}, ["include", "list of strings"]),
        ({"exclude": ["a", 3]}, ["exclude", "list of strings"]),
        ({"disable": "AS201"}, ["disable", "list of codes"]),
        ({"disable": ["AS999"]}, ["disable", "unknown code 'AS999'"]),
        ({"disable": ["broadcast"]}, ["unknown code 'broadcast'"]),
        ({"strict-dims": "yes"}, ["strict-dims", "true or false"]),
    ],
)
def test_a_bad_setting_is_a_config_error_naming_the_key_and_file(tmp_path, table, words):
    file = tmp_path / "pyproject.toml"
    with pytest.raises(ConfigError) as info:
        settings_from(table, tmp_path, file)
    message = str(info.value)
    assert str(file) in message and "[tool.astsym]" in message
    for word in words:
        assert word in message


def test_invalid_toml_and_a_non_table_are_config_errors(tmp_path):
    write(tmp_path, "pyproject.toml", "[tool.astsym\n")
    with pytest.raises(ConfigError, match="invalid TOML"):
        find_config(tmp_path)
    write(tmp_path, "pyproject.toml", "[tool]\nastsym = 3\n")
    with pytest.raises(ConfigError, match="must be a table"):
        find_config(tmp_path)


def test_load_settings_starts_from_the_folder_holding_all_paths(tmp_path):
    write(tmp_path, "pyproject.toml", "[tool.astsym]\nexclude = ['gen']\n")
    a, b = write(tmp_path, "pkg/a/m.py"), write(tmp_path, "pkg/b/n.py")
    settings = load_settings([str(a), str(b.parent)])
    assert settings.root == tmp_path.resolve()
    assert settings.config_file == tmp_path.resolve() / "pyproject.toml"
    assert settings.exclude == ("gen",)


def test_load_settings_from_an_explicit_config(tmp_path):
    config = write(tmp_path, "conf/custom.toml", "[tool.astsym]\nstrict-dims = true\n")
    write(tmp_path, "pyproject.toml", "[tool.astsym]\nstrict-dims = false\n")
    settings = load_settings([str(tmp_path)], str(config))
    assert settings.strict_dims is True and settings.root == config.parent.resolve()
    with pytest.raises(ConfigError, match="no such config file"):
        load_settings([str(tmp_path)], str(tmp_path / "missing.toml"))


# -- discover ------------------------------------------------------------------------------


def test_folders_are_walked_recursively_in_sorted_order(tmp_path):
    for rel in ["b.py", "a.py", "pkg/z.py", "pkg/inner/y.py", "notes.txt", "pkg/data.json"]:
        write(tmp_path, rel)
    files = discover([str(tmp_path)], Settings(root=tmp_path.resolve()))
    assert rel_files(files, tmp_path) == ["a.py", "b.py", "pkg/inner/y.py", "pkg/z.py"]


@pytest.mark.parametrize(
    "folder", [".git", ".venv", "venv", "__pycache__", "build", "dist", "node_modules", ".tox"]
)
def test_default_excludes_are_not_entered(tmp_path, folder):
    write(tmp_path, "keep.py")
    write(tmp_path, f"{folder}/skip.py")
    write(tmp_path, f"pkg/{folder}/deep.py")
    files = discover([str(tmp_path)], Settings(root=tmp_path.resolve()))
    assert rel_files(files, tmp_path) == ["keep.py"]


def test_exclude_by_name_and_by_root_relative_path(tmp_path):
    for rel in ["src/a.py", "src/gen/g.py", "src/x_pb2.py", "other/gen/h.py", "legacy/old.py"]:
        write(tmp_path, rel)
    table = {"exclude": ["src/gen", "*_pb2.py", "legacy/"]}
    files = discover([str(tmp_path)], settings_from(table, tmp_path.resolve()))
    assert rel_files(files, tmp_path) == ["other/gen/h.py", "src/a.py"]


def test_include_patterns(tmp_path):
    for rel in ["a.py", "tool.pyw", "scripts/run.pyw", "scripts/deep/x.pyw"]:
        write(tmp_path, rel)
    settings = settings_from({"include": ["scripts/*.pyw"]}, tmp_path.resolve())
    files = discover([str(tmp_path)], settings)
    assert rel_files(files, tmp_path) == ["scripts/deep/x.pyw", "scripts/run.pyw"]


def test_patterns_are_relative_to_the_root_when_a_subfolder_is_given(tmp_path):
    write(tmp_path, "src/gen/g.py")
    write(tmp_path, "src/m.py")
    settings = settings_from({"exclude": ["src/gen"]}, tmp_path.resolve())
    files = discover([str(tmp_path / "src")], settings)
    assert rel_files(files, tmp_path) == ["src/m.py"]


def test_explicit_files_are_always_checked(tmp_path):
    excluded = write(tmp_path, "build/gen.py")
    other = write(tmp_path, "script.txt")
    files = discover([str(excluded), str(other)], Settings(root=tmp_path.resolve()))
    assert files == [str(excluded), str(other)]


def test_each_file_is_listed_once_and_paths_stay_as_given(tmp_path, monkeypatch):
    write(tmp_path, "pkg/a.py")
    write(tmp_path, "pkg/b.py")
    monkeypatch.chdir(tmp_path)
    files = discover(["pkg/b.py", "./pkg", "pkg/a.py"], Settings(root=tmp_path.resolve()))
    assert files == ["pkg/b.py", "pkg/a.py"]


def test_a_missing_path_is_a_usage_error(tmp_path):
    with pytest.raises(MissingPathError, match="nope.py: no such file or folder"):
        discover([str(tmp_path / "nope.py")], Settings())
