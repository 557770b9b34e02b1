"""The README's main command runs ``astsym check examples/``: the examples must be clean,
and the linter must really analyze their @symbolic functions (not skip them)."""

from pathlib import Path

from astsym.parse.analyze import check_files

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_examples_are_clean():
    files = sorted(str(p) for p in EXAMPLES.glob("*.py"))
    found = check_files(files)
    assert {f: [d.headline() for d in ds] for f, ds in found.items() if ds} == {}


def test_a_broken_copy_of_an_example_is_reported():
    path = EXAMPLES / "12_symbolic_logistic_regression.py"
    source = path.read_text()
    broken = source.replace("(w**2).sum()", "(x**2).sum(axis=2)", 1)
    assert broken != source
    found = check_files({str(path): broken})[str(path)]
    assert [d.code for d in found] == ["AS204"], [d.headline() for d in found]
