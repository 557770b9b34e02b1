"""Loading converted functions: convert a user's function, compile the result with its
closure and globals, and map spans in the generated code back to the user's file.

    >>> import astsym.tensor as T
    >>> def magnitude(x):
    ...     if x < 0:
    ...         return -x
    ...     else:
    ...         return x
    >>> loaded = load(magnitude)
    >>> loaded.function(-2.0)                 # on numbers: the same behaviour
    2.0
    >>> loaded.function(T.dscalar("x")).owner.op   # on a symbolic value: a graph ifelse
    ifelse{n_outs=1}
"""

from __future__ import annotations

import inspect
import linecache
import textwrap
import types
from dataclasses import dataclass

import libcst as cst

from astsym.graph.source import SOURCE_MAPS
from astsym.typecheck import SourceSpan

from . import operators
from .convert import AG, OUTER, SITES, Conversion, Site, convert_function

_SKIP_MODULES = ("astsym", "numpy", "scipy", "builtins", "functools", "math")


@dataclass
class Loaded:
    function: types.FunctionType  # the converted function
    conversion: Conversion
    file: str  # the user's source file
    first_line: int  # of the def in that file

    def site_span(self, site: Site) -> SourceSpan:
        return SourceSpan(self.file, site.line + self.first_line - 1, site.col)


_CACHE: dict = {}


def load(fn) -> Loaded:
    """The converted form of ``fn`` (cached per function object)."""
    cached = _CACHE.get(fn)
    if cached is not None:
        return cached
    lines, first_line = inspect.getsourcelines(fn)
    source = textwrap.dedent("".join(lines))
    conversion = convert_function(source)
    file = inspect.getsourcefile(fn) or "<unknown>"
    generated = f"<astsym converted {fn.__qualname__} {id(fn):x}>"
    SOURCE_MAPS[generated] = _source_map(conversion, file, first_line)
    loaded = Loaded(None, conversion, file, first_line)
    loaded.function = _compile(fn, conversion, generated, loaded)
    _CACHE[fn] = loaded
    return loaded


def converted_or_none(fn):
    """The converted form of a plain user function, or None (builtins, libraries, astsym)."""
    if not isinstance(fn, types.FunctionType):
        return None
    module = getattr(fn, "__module__", "") or ""
    if module.split(".")[0] in _SKIP_MODULES or fn.__name__ == "<lambda>":
        return None
    try:
        return load(fn).function
    except (OSError, TypeError, cst.ParserSyntaxError):
        return None


def _closure_values(fn) -> dict:
    names = fn.__code__.co_freevars
    cells = fn.__closure__ or ()
    values = {}
    for name, cell in zip(names, cells):
        try:
            values[name] = cell.cell_contents
        except ValueError:  # an empty cell: not yet assigned in the enclosing scope
            continue
    return values


def _compile(fn, conversion: Conversion, filename: str, loaded: Loaded):
    free = [n for n in fn.__code__.co_freevars if n not in conversion.shared_candidates]
    params = ", ".join([AG, SITES, OUTER, *free])
    factory_src = (
        f"def __factory({params}):\n"
        + textwrap.indent(conversion.code, "    ")
        + f"\n    return {fn.__name__}\n"
    )
    namespace: dict = {}
    # registered with linecache so a function defined in the body can be read and converted
    linecache.cache[filename] = (len(factory_src), None, factory_src.splitlines(True), filename)
    exec(compile(factory_src, filename, "exec"), namespace)  # noqa: S102 - generated code
    factory = types.FunctionType(namespace["__factory"].__code__, fn.__globals__)
    sites = [_SiteRef(site, loaded) for site in conversion.sites]
    closure = _closure_values(fn)  # free variables it only reads are the factory's params
    converted = factory(operators, sites, closure, *[closure.get(n) for n in free])
    converted.__defaults__ = fn.__defaults__
    converted.__kwdefaults__ = fn.__kwdefaults__
    return converted


class _SiteRef:
    """A site as converted code sees it (kind, line in the file, note, index)."""

    def __init__(self, site: Site, loaded: Loaded) -> None:
        self.kind, self.note, self.index = site.kind, site.note, site.index
        self.line = site.line + loaded.first_line - 1
        self.col = site.col
        self.span = SourceSpan(loaded.file, self.line, self.col)


def _source_map(conversion: Conversion, file: str, first_line: int):
    """Map spans in the generated code (indented one level inside the factory, below its
    header line) to the user's file, through the names the conversion kept."""
    by_line: dict[int, list[tuple[int, int, int]]] = {}
    for line, col, orig_line, orig_col in conversion.anchors:
        by_line.setdefault(line + 1, []).append((col + 4, orig_line, orig_col))

    def mapper(span: SourceSpan) -> SourceSpan:
        candidates = by_line.get(span.line)
        if not candidates:
            return SourceSpan(file, first_line, 1)
        col, line, orig_col = max(
            (c for c in candidates if c[0] <= span.col), default=min(candidates)
        )
        return SourceSpan(file, line + first_line - 1, max(orig_col + span.col - col, 1))

    return mapper
