"""The linter on hostile input: it never imports or runs the files it checks, a file that
does not parse gives exactly one AS100, and odd but valid Python never crashes it or makes
it hang.

Each check runs under a generous deadline (SIGALRM, where the platform has it) that raises
an exception the analyzer cannot swallow, so a hang fails its test instead of blocking the
suite. Known failures are strict xfails whose reason gives the reproducer.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import textwrap
import traceback
import tracemalloc

import pytest
from _lint_fixtures import NEVER_RUN, expectations_in, found

from astsym.parse.analyze import check_files, check_source
from astsym.typecheck import Diagnostic

HEAD = "import numpy as np\nfrom astsym import f32, symbolic\n"


class Deadline(BaseException):
    """Raised in the analyzer by the alarm: a BaseException, so no ``except Exception`` in
    the analyzer swallows it."""


@contextlib.contextmanager
def deadline(seconds: int):
    if not hasattr(signal, "SIGALRM"):  # pragma: no cover - Windows: no guard
        yield
        return

    def expire(signum, frame):
        raise Deadline(f"the linter took more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def lint(source: str, path: str = "odd.py", seconds: int = 10) -> list[Diagnostic]:
    """``check_source`` under a deadline; a hang or a crash fails the test with a short
    message (pytest's report of a thousand-frame traceback alone takes seconds)."""
    try:
        with deadline(seconds):
            return check_source(source, path)
    except (Deadline, RecursionError) as err:
        frames = [f for f in traceback.extract_tb(err.__traceback__) if f.filename != __file__]
        where = f" (last in {frames[-1].filename}:{frames[-1].lineno})" if frames else ""
        pytest.fail(f"{err!r}{where}", pytrace=False)


# -- never imported, never run --------------------------------------------------------------
@pytest.fixture
def scratch(tmp_path, monkeypatch):
    """A working directory holding ./astsym-never-run/sentinel.txt: what the never_run
    fixtures would write into or delete, were they run."""
    marks = tmp_path / "astsym-never-run"
    marks.mkdir()
    (marks / "sentinel.txt").write_text("still here")
    monkeypatch.chdir(tmp_path)
    return marks


def _lint_in_scratch(name: str):
    path = str(NEVER_RUN / name)
    before = dict(sys.modules)
    with deadline(20):
        diagnostics = check_files([path])[path]
    return path, diagnostics, before


def test_linting_never_runs_module_code_the_body_or_helpers(scratch, capfd) -> None:
    path, diagnostics, before = _lint_in_scratch("side_effects.py")
    assert sorted(p.name for p in scratch.iterdir()) == ["sentinel.txt"]
    assert sorted(p.name for p in scratch.parent.iterdir()) == ["astsym-never-run"]
    out, err = capfd.readouterr()
    assert "ran" not in out + err
    # analyzed all the same: the errors in the body and in the helper it calls are found
    with open(path) as handle:
        assert found(diagnostics) == expectations_in(handle.read())
    added = set(sys.modules) - set(before)
    assert not [name for name in added if "side_effects" in name or "never_run" in name]
    assert not [
        name
        for name, module in sys.modules.items()
        if getattr(module, "__file__", None) == path and before.get(name) is not module
    ]


def test_linting_never_runs_numpy_file_writes(scratch) -> None:
    _lint_in_scratch("numpy_writes.py")
    assert sorted(p.name for p in scratch.iterdir()) == ["sentinel.txt"]


# -- sources that do not parse -----------------------------------------------------------
SYNTAX_ERRORS = {
    "unclosed_paren": ("def broken(x:\n    return x\n", 1),
    "stray_paren": ("def f(x):\n    y = x + 1\n    return y )\n", 3),
    "double_equals": ("import numpy\n\nx = = 1\n", 3),
    "python2_print": ("x = 1\nprint 'hi'\n", 2),
    "missing_body": ("def f():\nreturn 1\n", 2),
    "unterminated_string": ("a = 1\ns = 'abc\n", 2),
    "unexpected_indent": ("x = 1\n    y = 2\n", 2),
    "tabs_and_spaces": ("if True:\n\tx = 1\n        y = 2\n", 3),
    "missing_colon": ("for i in range(3)\n    pass\n", 1),
    "symbolic_then_error": (
        HEAD + "\n@symbolic\ndef f(x: f32['n', 3], y: f32[4]):\n    return x + y\n\ndef g(:\n",
        8,
    ),
    "null_byte": ("x = 1\0\n", 1),
    "too_many_parentheses": ("y = " + "(" * 300 + "1" + ")" * 300 + "\n", 1),
}


@pytest.mark.parametrize(("source", "line"), SYNTAX_ERRORS.values(), ids=SYNTAX_ERRORS.keys())
def test_a_syntax_error_is_one_as100_at_its_line(source: str, line: int) -> None:
    diagnostics = lint(source, "bad.py")
    assert [(d.code, d.span.line) for d in diagnostics] == [("AS100", line)]
    assert diagnostics[0].span.file == "bad.py" and diagnostics[0].span.col >= 1


def test_files_that_are_not_text_or_are_empty(tmp_path) -> None:
    binary = tmp_path / "binary.py"
    binary.write_bytes(bytes(range(256)) * 4)
    latin = tmp_path / "latin.py"
    latin.write_bytes(b"# caf\xe9\nx = 1\n")
    empty = tmp_path / "empty.py"
    empty.write_text("")
    with deadline(10):
        results = check_files([str(p) for p in (binary, latin, empty)])
    assert [d.code for d in results[str(binary)]] == ["AS100"]
    assert results[str(latin)] == [] and results[str(empty)] == []


def test_a_byte_order_mark_is_not_a_syntax_error(tmp_path) -> None:
    bom = tmp_path / "bom.py"
    bom.write_bytes(b"\xef\xbb\xbf" + _module(ODD_BUT_VALID["lambdas"]).encode())
    with deadline(10):
        assert check_files([str(bom)]) == {str(bom): []}


# -- odd but valid Python ------------------------------------------------------------------
def _nested_functions(depth: int) -> str:
    lines = ["@symbolic", "def f(x: f32['n', 3]):"]
    for i in range(depth):
        lines.append("    " * (i + 1) + f"def level{i}(v):")
    lines.append("    " * (depth + 1) + "return v * 2")
    for i in reversed(range(1, depth)):
        lines.append("    " * (i + 1) + f"return level{i}(v)")
    lines.append("    return level0(x)")
    return "\n".join(lines) + "\n"


ODD_BUT_VALID = {
    "decorators_with_arguments": """
        import functools

        def register(*names, **options):
            def wrap(fn):
                return fn
            return wrap

        @register("a", "b", priority=3)
        @functools.lru_cache(maxsize=None)
        @symbolic(max_iters=3)
        def f(x: f32["n", 3]):
            return x * 2

        @(lambda fn: fn)
        @symbolic
        def g(x: f32["n", 3]):
            return x + 1
        """,
    "walrus": """
        @symbolic
        def f(x: f32["n", 3]):
            if (n := 3) == 3:
                y = x * n
            squares = [(k := i) * k for i in range(4)]
            while (m := 2) > 3:
                pass
            return y, squares, m, k
        """,
    "match_statements": """
        match [1, 2]:
            case [a, *rest]:
                FIRST = a
            case {"k": v}:
                FIRST = v
            case str() | bytes():
                FIRST = None

        @symbolic
        def f(x: f32["n", 3], mode=("scale", 2)):
            match mode:
                case ("scale", k) if k > 1:
                    return x * k
                case ("shift", k):
                    return x + k
                case _:
                    return x
        """,
    "async_defs": """
        import asyncio

        async def fetch(x):
            async with asyncio.Lock():
                await asyncio.sleep(0)
            async for item in agen():
                yield item

        async def agen():
            yield 1

        @symbolic
        def f(x: f32["n", 3]):
            async def inner():
                return await fetch(x)
            coro = inner()
            return x
        """,
    "lambdas": """
        @symbolic
        def f(x: f32["n", 3]):
            g = (lambda a, b=2, *c, d=3, **e: a * b + d)
            h = (lambda: lambda: lambda: x)()()()
            k = sorted([3, 1, 2], key=lambda v: -v)
            return g(x), h, k, (lambda *a: a)(1, 2)
        """,
    "star_args": """
        def helper(*args, **kwargs):
            return args[0] * len(args) + kwargs.get("b", 0)

        @symbolic
        def f(x: f32["n", 3], *rest, scale=1.0, **extra):
            parts = [x, x]
            a, *b = parts
            *c, d = (1, 2, 3)
            y = helper(*parts, **{"b": 2}, c=3)
            z = helper(*rest, **extra)
            return y * scale, a, b, c, d, z
        """,
    "global_nonlocal": """
        COUNT = 0

        @symbolic
        def f(x: f32["n", 3]):
            global COUNT
            COUNT += 1
            total = 0
            def add(v):
                nonlocal total
                total += 1
                return v
            return add(x) * COUNT, total
        """,
    "deeply_nested_functions": _nested_functions(40),
    "recursion_between_helpers": """
        def ping(n, x):
            return x if n <= 0 else pong(n - 1, x)

        def pong(n, x):
            return ping(n - 1, x + 1)

        def forever(x):
            return forever(x + 1)

        @symbolic
        def f(x: f32["n", 3]):
            return ping(10**6, x), forever(x)
        """,
    "while_true_with_break": """
        while True:
            break

        @symbolic
        def f(x: f32["n", 3]):
            k = 0
            while True:
                k += 1
                if k > 10**6:
                    break
            while True:
                x = x + 1
            return x
        """,
    "huge_ranges": """
        def spin(x):
            for i in range(10**9):
                x = x + i
            return x

        @symbolic
        def f(x: f32["n", 3]):
            for i in range(10**9):
                for j in range(10**9):
                    x = x + i * j
            total = sum(range(10**12))
            items = list(range(10**12))
            ordered = sorted(range(10**9))
            big = max(range(10**12))
            return spin(x), total, items, ordered, big, range(10**100)[5], len(range(10**100))
        """,
    "huge_values": """
        import math

        BIG = np.zeros((10**6, 10**6))
        ONES = np.ones(10**12)
        RAND = np.random.rand(10**5, 10**5)
        GRID = np.arange(10**10)
        LIST = [0] * 10**10
        TUPLE = (0,) * 10**10
        TEXT = "a" * 10**10
        POW = 2 ** 10 ** 10
        TOWER = 10 ** 10 ** 10 ** 10
        SHIFT = 1 << 10**10
        FACT = math.factorial(10**6)
        PW = pow(10, 10**10)

        @symbolic
        def f(x: f32["n", 3]):
            y = np.zeros((10**6, 10**6)) + x.sum()
            z = [0] * 10**10
            p = 2 ** 10 ** 10
            return x, y, z, p, BIG, LIST
        """,
    "comprehensions": """
        @symbolic
        def f(x: f32["n", 3]):
            table = {i: i * i for i in range(10)}
            nested = [[i * j for j in range(5)] for i in range(5)]
            flat = [v for row in nested for v in row if v % 2]
            gen = (x * i for i in range(3))
            pairs = {(i, j) for i in range(3) for j in range(3)}
            return table, nested, flat, list(gen), pairs
        """,
    "classes_and_escapes": """
        class Meta(type):
            def __new__(mcls, name, bases, ns):
                return super().__new__(mcls, name, bases, ns)

        class Model(metaclass=Meta):
            @property
            def w(self):
                return 1

        @symbolic
        def f(x: f32["n", 3]):
            subclasses = getattr(object, "__subclasses__")()
            evaluated = getattr(getattr(print, "__self__"), "eval")("1 + 1")
            imported = getattr(getattr(print, "__self__"), "__import__")("os")
            return x.__class__, Model().w, subclasses, evaluated, imported, type(x)
        """,
    "exceptions": """
        try:
            import does_not_exist
        except* ImportError:
            pass

        @symbolic
        def f(x: f32["n", 3]):
            try:
                raise ValueError("x")
            except ValueError as err:
                y = x
            finally:
                z = 1
            assert x.ndim == 2, "rank"
            del z
            return y
        """,
    "odd_literals": """
        @symbolic
        def f(x: f32["n", 3]):
            s = f"{x!r:>{10}}" + rb"\\x00".decode() + "\\N{SNOWMAN}"
            n = 0x_ff + 0o7_7 + 0b1_0 + 1_000.5e-3 + 3j
            return x * n.real, s, ...
        """,
    "many_symbolic_functions": "".join(
        f"@symbolic\ndef f{i}(x: f32['n', 3]):\n    return x * {i}\n" for i in range(200)
    ),
}
if sys.version_info < (3, 11):  # pragma: no cover - except* is 3.11+
    del ODD_BUT_VALID["exceptions"]


def _module(body: str) -> str:
    return HEAD + "\n" + textwrap.dedent(body).lstrip("\n")


@pytest.mark.parametrize("debug", [False, True], ids=["user", "debug"])
@pytest.mark.parametrize("body", ODD_BUT_VALID.values(), ids=ODD_BUT_VALID.keys())
def test_odd_but_valid_python_never_crashes_or_hangs(body: str, debug: bool, monkeypatch) -> None:
    """In ``debug`` mode (ASTSYM_DEBUG=1) a function the analyzer gives up on raises, so an
    internal crash hidden from users fails here too."""
    if debug:
        monkeypatch.setenv("ASTSYM_DEBUG", "1")
    else:
        monkeypatch.delenv("ASTSYM_DEBUG", raising=False)
    source = _module(body)
    compile(source, "odd.py", "exec")  # the snippet is valid Python
    diagnostics = lint(source)
    lines = source.count("\n") + 1
    for d in diagnostics:
        assert d.code != "AS100", d.headline()
        assert d.span is not None and d.span.file == "odd.py" and 1 <= d.span.line <= lines


def test_deeply_nested_brackets() -> None:
    nested = "[" * 150 + "1" + "]" * 150
    source = _module(f"X = {nested}\n\n@symbolic\ndef f(x: f32['n', 3]):\n    return x\n")
    compile(source, "odd.py", "exec")
    assert lint(source) == []


def test_exponential_recursion_is_cut_short() -> None:
    source = _module(
        """
        def r(x):
            return r(x + 1) * r(x - 1) * r(x)

        @symbolic
        def f(x: f32["n", 3]):
            return r(x)
        """
    )
    assert lint(source, seconds=2) == []


def test_values_built_from_literals_stay_small() -> None:
    source = _module(
        """
        TEXT = "a".ljust(4 * 10**7)
        REPEATED = np.zeros(3).repeat(4 * 10**6)

        @symbolic
        def f(x: f32["n", 3]):
            return x
        """
    )
    tracemalloc.start()
    try:
        lint(source)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 32 * 2**20, f"the linter allocated {peak // 2**20} MiB"
