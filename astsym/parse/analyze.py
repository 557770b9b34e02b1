"""The static analyzer behind ``astsym check``: parse files with libcst, find their
``@symbolic`` functions, and interpret each body abstractly from its annotations' types,
never importing or running the files (see ``interpret.py``).

    >>> src = '''
    ... from astsym import symbolic, f32
    ... @symbolic
    ... def f(x: f32["n", 3], y: f32[4]):
    ...     return x + y
    ... '''
    >>> print(check_source(src, "model.py")[0].headline())
    model.py:5:12: error[AS201] add: cannot broadcast f32[n, 3] with f32[4]: dim 3 vs 4
"""

from __future__ import annotations

import importlib
import os
import re
import warnings
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from astsym.graph.basic import Variable
from astsym.graph.shared import SharedVariable
from astsym.graph.source import resolve_span
from astsym.graph.updates import fit_update
from astsym.typecheck import CODES, Diagnostic, RuleError, SourceSpan
from astsym.typecheck.codes import DIM_NAMES, SYNTAX_ERROR
from astsym.typecheck.diagnostics import error
from astsym.typecheck.shapes import dim_scope

from . import operators, sandbox
from .abstract_ops import AbstractOps
from .annotations import TensorSpec, check_argument, check_return
from .convert import convert_node
from .interpret import MAX_DEPTH, Closure, Frame, GiveUp, Interpreter, Placement
from .sandbox import UNKNOWN, is_unknown


def check_source(
    source: str,
    path: str = "<string>",
    *,
    strict_dims: bool = False,
    disabled: Collection[str] = (),
) -> list[Diagnostic]:
    """The diagnostics of one file's source (never imports or runs it)."""
    return check_files({path: source}, strict_dims=strict_dims, disabled=disabled)[path]


def check_files(
    files: Sequence[str] | dict[str, str],
    *,
    strict_dims: bool = False,
    disabled: Collection[str] = (),
) -> dict[str, list[Diagnostic]]:
    """Diagnostics per file, in the order given. ``files``: paths (read here) or a mapping
    of path to source. Files may import each other's ``@symbolic`` functions."""
    sources = files if isinstance(files, dict) else {p: _read(p) for p in files}
    analysis = Analysis(sources, strict_dims)
    out = {}
    for path in sources:
        found = analysis.run(path)
        out[path] = _filter(found, sources[path], disabled)
    return out


def syntax_error(source: str, path: str) -> Diagnostic | None:
    """AS100 at the offending position when ``source`` is not valid Python (parsed only)."""
    try:
        with warnings.catch_warnings():  # the user's invalid escapes are not our output
            warnings.simplefilter("ignore")
            compile(source, path, "exec", dont_inherit=True)  # compiled, never run
    except SyntaxError as err:
        line, col = err.lineno or 1, err.offset or 1
        return error(SYNTAX_ERROR, f"invalid syntax: {err.msg}", SourceSpan(path, line, col))
    except (ValueError, RecursionError, MemoryError) as err:  # null bytes, deep nesting
        return error(SYNTAX_ERROR, f"invalid source: {err}", SourceSpan(path, 1, 1))
    return None


def _cst_error(err: cst.ParserSyntaxError, path: str) -> Diagnostic:
    span = SourceSpan(path, err.raw_line, err.raw_column + 1)
    return error(SYNTAX_ERROR, f"invalid syntax: {err.message}", span)


def _read(path: str) -> str:
    with open(path, "rb") as handle:  # a byte order mark is not part of the source
        return handle.read().decode("utf-8", errors="replace").removeprefix("\ufeff")


# -- suppression and filtering ---------------------------------------------------------------
_IGNORE = re.compile(r"#\s*astsym:\s*ignore(?:\[([^\]]*)\])?")


def _filter(found: list[Diagnostic], source: str, disabled: Collection[str]) -> list[Diagnostic]:
    """Drop disabled codes and lines marked ``# astsym: ignore[code, ...]`` (or bare
    ``# astsym: ignore``); sort by place; one of each."""
    off = {_code_of(c) for c in disabled}
    lines = source.splitlines()
    seen, out = set(), []
    for d in sorted(found, key=_place):
        key = (d.code, d.message, _place(d))
        if key in seen or d.code in off or _ignored(d, lines):
            continue
        seen.add(key)
        out.append(d)
    return out


def _code_of(name: str) -> str:
    upper = name.strip().upper()
    if upper in CODES:
        return upper
    return next((c for c, entry in CODES.items() if entry.name == name.strip()), name)


def _place(d: Diagnostic) -> tuple:
    return (d.span.line, d.span.col) if d.span is not None else (0, 0)


def _ignored(d: Diagnostic, lines: list[str]) -> bool:
    if d.span is None or not 0 < d.span.line <= len(lines):
        return False
    match = _IGNORE.search(lines[d.span.line - 1])
    if match is None:
        return False
    if match.group(1) is None:
        return True
    return d.code in {_code_of(c) for c in match.group(1).split(",") if c.strip()}


# -- the analysis of a set of files ---------------------------------------------------------
@dataclass
class Module:
    """One file: its tree, its module-level names, its user functions."""

    path: str
    source: str
    tree: cst.Module
    placement: Placement
    positions: object  # node -> CodeRange, for the file's tree
    names: dict = field(default_factory=dict)
    functions: list = field(default_factory=list)
    ready: bool = False


class Namespace:
    """Another analyzed file imported as a module (``import model; model.layer(x)``)."""

    def __init__(self, module: Module) -> None:
        self._module = module

    def __getattr__(self, name: str):
        return self._module.names.get(name, UNKNOWN)


class UserFunction:
    """A function the user wrote (module level or nested): interpreted when called, after
    the same conversion tracing applies."""

    def __init__(self, node: cst.FunctionDef, module: Module, span: SourceSpan, outer=None):
        self.node, self.module, self.span, self.outer = node, module, span, outer
        self.symbolic = False
        self._converted = None

    @property
    def name(self) -> str:
        return self.node.name.value

    def converted(self):
        """(the converted FunctionDef, its placement, its sites), converted once, as
        tracing converts it (but from the file's tree: nothing is parsed again)."""
        if self._converted is None:
            conversion = convert_node(self.node, self.module.positions)
            placement = Placement(self.span.file, conversion.origins)
            fdef = conversion.tree.body[0]
            sites = [_Site(site, placement) for site in conversion.sites]
            self._converted = (fdef, placement, sites)
            self.state_names = conversion.shared_candidates
        return self._converted


class _Site:
    """A converted statement, as the helpers see it (kind, line, note, span)."""

    def __init__(self, site, placement: Placement) -> None:
        self.kind, self.note, self.index = site.kind, site.note, site.index
        self.line, self.col = site.line, site.col
        self.span = SourceSpan(placement.file, self.line, self.col)


class Analysis:
    """The host of the interpreter for a set of files."""

    def __init__(self, sources: dict[str, str], strict_dims: bool = False) -> None:
        self.sources, self.strict_dims = sources, strict_dims
        self.modules: dict[str, Module | None] = {}
        self.found: list[Diagnostic] = []
        self.interp = Interpreter(self.found.append, self)
        self.by_name = _module_names(list(sources))
        self.depth = 0
        self.calls = 0
        self.importing = False  # module-level code: the user's functions are not called
        self.resolved: dict | None = None  # resolved path -> path as given

    # -- files ------------------------------------------------------------------------------
    def run(self, path: str) -> list[Diagnostic]:
        self.found.clear()
        source = self.sources[path]
        syntax = syntax_error(source, path)
        if syntax is not None:
            return [syntax]
        if "symbolic" not in source:  # no @symbolic function, under any name: nothing to do
            return []  # (files it imports from are read when something imports them)
        module = self.module(path)
        if module is None:
            return list(self.found)  # libcst could not parse what Python can
        for fn in list(module.functions):
            if fn.symbolic:
                self.entry_safely(fn)
        # an error inside a function of another file, met through a call from this one, is
        # that file's to report
        return [d for d in self.found if d.span is None or d.span.file == path]

    def module(self, path: str) -> Module | None:
        if path in self.modules:
            return self.modules[path]
        source = self.sources[path]
        try:
            parsed = cst.parse_module(source)
        except (cst.ParserSyntaxError, RecursionError) as err:
            self.modules[path] = None
            if isinstance(err, cst.ParserSyntaxError) and syntax_error(source, path) is None:
                self.found.append(_cst_error(err, path))
            return None
        wrapper = MetadataWrapper(parsed, unsafe_skip_copy=True)
        try:
            positions = wrapper.resolve(PositionProvider)
        except RecursionError:  # nesting deeper than libcst can walk: not analyzed
            self.modules[path] = None
            return None
        origins = {
            id(node): (p.start.line, p.start.column + 1, p.end.line, p.end.column + 1)
            for node, p in positions.items()
        }
        placement = Placement(path, origins)
        module = Module(path, source, wrapper.module, placement, positions)
        self.modules[path] = module
        self.fill(module)
        return module

    def fill(self, module: Module) -> None:
        """Bind the module's names: imports, literal assignments, functions. Nothing the
        module calls at import time is followed except what builds constants and shared
        variables (``sandbox``)."""
        frame = Frame(module.names, None, module.names, module.placement)
        self.interp.base_span = SourceSpan(module.path, 1, 1)
        importing, self.importing = self.importing, True
        try:
            for stmt in module.tree.body:
                try:
                    self.module_statement(stmt, frame, module)
                except Exception:  # noqa: BLE001 - module-level code only gives types
                    continue
        finally:
            self.importing = importing
        module.ready = True

    def module_statement(self, stmt, frame: Frame, module: Module) -> None:
        if isinstance(stmt, cst.FunctionDef):
            module.names[stmt.name.value] = self.define(stmt, frame)
        elif isinstance(stmt, cst.ClassDef):
            module.names[stmt.name.value] = UNKNOWN
        elif isinstance(stmt, cst.SimpleStatementLine):
            self.interp.statement(stmt, frame)
        elif isinstance(stmt, cst.Try):
            for inner in stmt.body.body:
                self.module_statement(inner, frame, module)
        else:  # if/for/while/with at module level: what they bind is not known
            for name in operators_assigned(stmt):
                module.names[name] = UNKNOWN

    # -- the interpreter's host interface ---------------------------------------------------
    def define(self, node: cst.FunctionDef, frame: Frame):
        span = frame.placement.span(node)
        if span is None:
            return Closure(self.interp, node, frame)
        module = self.module_of(frame)
        outer = frame if frame.parent is not None or frame.vars is not frame.module else None
        fn = UserFunction(node, module, span, outer)
        fn.symbolic = any(self.is_symbolic_decorator(d.decorator, frame) for d in node.decorators)
        if outer is None and module is not None:
            module.functions.append(fn)
        return fn

    def module_of(self, frame: Frame) -> Module | None:
        return next(
            (m for m in self.modules.values() if m is not None and m.names is frame.module),
            None,
        )

    def is_symbolic_decorator(self, node, frame: Frame) -> bool:
        """``@symbolic``, ``@astsym.symbolic``, ``@symbolic(...)``, under any alias (the
        decorator lives in ``runtime``, which this layer does not import: it is known by
        its module and name)."""
        target = node.func if isinstance(node, cst.Call) else node
        try:
            value = self.interp.expr(target, frame)
        except Exception:  # noqa: BLE001
            return False
        return (
            getattr(value, "__module__", None) == "astsym.runtime.symbolic"
            and getattr(value, "__name__", None) == "symbolic"
        )

    def import_(self, node, frame: Frame) -> None:
        if isinstance(node, cst.Import):
            for alias in node.names:
                dotted = _dotted(alias.name)
                if alias.asname is not None:
                    frame.vars[alias.asname.name.value] = self.import_module(dotted, frame)
                else:
                    root = dotted.split(".")[0]
                    frame.vars[root] = self.import_module(root, frame)
            return
        base = self.resolve_from(node, frame)
        if isinstance(node.names, cst.ImportStar):
            if sandbox.is_module(base):
                public = getattr(base, "__all__", [n for n in dir(base) if not n.startswith("_")])
                for name in public:
                    frame.vars[name] = getattr(base, name, UNKNOWN)
            elif isinstance(base, Namespace):
                frame.vars.update(base._module.names)
            return
        for alias in node.names:
            name = alias.name.value if isinstance(alias.name, cst.Name) else _dotted(alias.name)
            bound = alias.asname.name.value if alias.asname is not None else name
            value = UNKNOWN
            if sandbox.is_module(base):
                value = getattr(base, name, UNKNOWN)
                if value is UNKNOWN:
                    value = self.import_module(f"{base.__name__}.{name}", frame)
            elif isinstance(base, Namespace):
                value = base._module.names.get(name, UNKNOWN)
            if sandbox.is_module(value) and not sandbox.module_allowed(value.__name__):
                value = UNKNOWN
            frame.vars[bound] = value

    def follows_files(self, frame: Frame) -> bool:
        """Imports of other checked files are followed from files with a symbolic function
        (one level: enough for the signatures and shared variables they use)."""
        module = self.module_of(frame)
        return module is not None and "symbolic" in module.source

    def resolve_from(self, node: cst.ImportFrom, frame: Frame):
        dotted = _dotted(node.module) if node.module is not None else ""
        dots = len(node.relative)
        if dots:
            module = self.module_of(frame)
            if module is None or not self.follows_files(frame):
                return UNKNOWN
            folder = Path(module.path).parent
            for _ in range(dots - 1):
                folder = folder.parent
            target = folder.joinpath(*dotted.split(".")) if dotted else folder
            return self.file_module(target)
        return self.import_module(dotted, frame)

    def import_module(self, dotted: str, frame: Frame):
        """numpy, math and astsym are the real modules (even when astsym's own files are
        being checked); another checked file is its names; anything else is unknown."""
        if sandbox.module_allowed(dotted):
            try:
                return importlib.import_module(dotted)
            except ImportError:
                return UNKNOWN
        if dotted in self.by_name and self.follows_files(frame):
            return self.file_module_path(self.by_name[dotted])
        return UNKNOWN

    def file_module(self, target: Path):
        if self.resolved is None:
            self.resolved = {Path(p).resolve(): p for p in self.sources}
        for candidate in (target.with_suffix(".py"), target / "__init__.py"):
            path = self.resolved.get(candidate.resolve())
            if path is not None:
                return self.file_module_path(path)
        return UNKNOWN

    def file_module_path(self, path: str):
        if path in self.modules and self.modules[path] is not None:
            module = self.modules[path]
            return Namespace(module) if module.ready else UNKNOWN  # an import cycle
        module = self.module(path)
        return Namespace(module) if module is not None else UNKNOWN

    def call(self, fn, args: tuple, kwargs: dict):
        if isinstance(fn, UserFunction):
            if self.depth >= MAX_DEPTH or self.importing:
                return UNKNOWN
            return self.interp.guarded(self.call_user, fn, args, kwargs)
        if isinstance(fn, Namespace):
            return UNKNOWN
        return NotImplemented

    # -- running the user's functions -------------------------------------------------------
    def call_user(self, fn: UserFunction, args: tuple, kwargs: dict):
        """A call from analyzed code: the arguments checked against a ``@symbolic``
        function's annotations, then its body interpreted (as tracing inlines it)."""
        self.calls += 1
        if self.calls > MAX_CALLS:
            raise GiveUp("too many calls")  # (exponential recursion): this function stops
        if fn.symbolic:
            self.check_arguments(fn, args, kwargs)
        fdef, placement, sites = fn.converted()
        frame = self.frame_for(fn, placement, sites)
        outer = fn.outer or Frame(fn.module.names, None, fn.module.names, placement)
        if not self.interp.bind(fdef.params, args, kwargs, frame, outer):
            return UNKNOWN
        self.depth += 1
        try:
            return self.interp.run_body(fdef.body.body, frame)
        finally:
            self.depth -= 1

    def frame_for(self, fn: UserFunction, placement: Placement, sites) -> Frame:
        closure = {}
        scope = fn.outer
        while scope is not None:
            closure = {**scope.vars, **closure}
            scope = scope.parent
        specials = {"__ag": AbstractOps(self.interp), "__site": sites, "__outer": closure}
        return Frame({}, fn.outer, fn.module.names, placement, specials)

    def check_arguments(self, fn: UserFunction, args: tuple, kwargs: dict) -> None:
        specs = self.annotations(fn)
        params = [p.name.value for p in _positional(fn.node.params)]
        given = dict(zip(params, args)) | kwargs
        dims: dict = {}
        for name, value in given.items():
            spec = specs.get(name)
            if isinstance(spec, TensorSpec):
                check_argument(spec, value, f"argument {name!r} of {fn.name}()", dims)

    def annotations(self, fn: UserFunction, report: bool = False) -> dict:
        """Each annotated parameter's spec (TensorSpec, DTypeSpec, or another value), and
        ``"return"``; an invalid annotation is AS101 (reported when ``report``)."""
        frame = Frame({}, fn.outer, fn.module.names, fn.module.placement)
        out = {}
        params = [*_positional(fn.node.params), *fn.node.params.kwonly_params]
        pairs = [(p.name.value, p.annotation) for p in params]
        pairs.append(("return", fn.node.returns))
        for name, annotation in pairs:
            if annotation is None:
                continue
            out[name] = self.annotation(annotation.annotation, frame, report)
        return out

    def annotation(self, node, frame: Frame, report: bool):
        if isinstance(node, cst.SimpleString):  # a quoted annotation
            try:
                node = cst.parse_expression(node.evaluated_value)
            except (cst.ParserSyntaxError, TypeError):
                return UNKNOWN
            frame = Frame({}, None, frame.module, Placement("", {}))
        sink = self.interp.report
        if not report:
            self.interp.report = lambda d: None
        try:
            return self.interp.expr(node, frame)
        finally:
            self.interp.report = sink

    def entry_safely(self, fn: UserFunction) -> None:
        """``entry``; a construct the analyzer does not follow ends that function's
        analysis without a report (``ASTSYM_DEBUG=1`` shows the failure instead)."""
        try:
            self.entry(fn)
        except Exception:
            if os.environ.get("ASTSYM_DEBUG"):
                raise

    def entry(self, fn: UserFunction) -> None:
        """Analyze a ``@symbolic`` function from its annotations' types."""
        specs = self.annotations(fn, report=True)
        fdef, placement, sites = fn.converted()
        frame = self.frame_for(fn, placement, sites)
        for param in [*_positional(fdef.params), *fdef.params.kwonly_params]:
            name = param.name.value
            spec = specs.get(name)
            frame.vars[name] = _parameter(spec, name)
        for star in (fdef.params.star_arg, fdef.params.star_kwarg):
            if isinstance(star, cst.Param):
                frame.vars[star.name.value] = UNKNOWN
        state = operators.TraceState(span_of=lambda site: site.span)
        self.interp.steps = 0
        self.calls = 0
        self.interp.base_span = fn.span
        with dim_scope(self.strict_dims) as scope, operators.tracing(state):
            scope.on_meet = lambda a, b: self.found.append(
                _strict_warning(a, b, self.interp.current_span() or fn.span)
            )
            try:
                result = self.interp.run_body(fdef.body.body, frame)
            except (GiveUp, RecursionError):
                return
            returned = result if isinstance(result, (tuple, list)) else [result]
            undefined = [r for r in returned if isinstance(r, operators.Undefined)]
            for value in undefined:  # returned, so used: an error
                message = f"{value.name!r} {value.reason}"
                self.found.append(error(value.code, message, value.span or fn.span))
            if undefined:
                return
            self.check_result(fn, specs.get("return"), result)
            self.check_updates(fn, state.final)

    def check_result(self, fn: UserFunction, spec, result) -> None:
        if not isinstance(spec, TensorSpec) or is_unknown(result):
            return
        try:
            check_return(spec, _as_variable(result))
        except RuleError as err:
            span = fn.span
            returns = fn.node.returns
            if returns is not None:
                span = fn.module.placement.span(returns.annotation) or span
            self.found.append(error(err.code, err.message, span, err.notes))

    def check_updates(self, fn: UserFunction, final) -> None:
        """A module-level shared variable the function rebinds gets an update: it must fit
        the variable's type (the same rule as ``function(updates=...)``)."""
        for name, value in zip(fn.state_names, final or ()):
            start = fn.module.names.get(name)
            if not isinstance(start, SharedVariable) or value is start or is_unknown(value):
                continue
            if isinstance(value, operators.Undefined):
                continue
            try:
                fit_update(start, value)
            except RuleError as err:
                span = _span_of(value) or fn.span
                self.found.append(error(err.code, err.message, span, err.notes))
            except Exception:  # noqa: BLE001
                continue


MAX_CALLS = 500  # calls of the user's functions while analyzing one @symbolic function


def _parameter(spec, name: str):
    if isinstance(spec, TensorSpec) and not spec.has_ellipsis:
        return spec.to_type()(name)
    return UNKNOWN


def _as_variable(value):
    from astsym.graph.convert import as_tensor_variable

    return value if isinstance(value, Variable) else as_tensor_variable(value)


def _span_of(value) -> SourceSpan | None:
    owner = getattr(value, "owner", None)
    span = getattr(owner, "span", None) if owner is not None else None
    return resolve_span(span) if span is not None else None


def operators_assigned(stmt) -> list[str]:
    from .scope import assigned_names

    return assigned_names([stmt])


def _positional(params: cst.Parameters) -> list[cst.Param]:
    return [*params.posonly_params, *params.params]


def _dotted(node) -> str:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{_dotted(node.value)}.{node.attr.value}"
    return ""


def _module_names(paths: list[str]) -> dict[str, str]:
    """Dotted module names the files may be imported by: the stem, and the dotted path
    from each folder above that is a package (has __init__.py among the files)."""
    names: dict[str, str] = {}
    for path in paths:
        p = Path(path)
        parts = [p.stem] if p.name != "__init__.py" else []
        folder = p.parent
        names.setdefault(".".join(parts) or folder.name, path)
        while folder.name and (folder / "__init__.py").exists():
            parts.insert(0, folder.name)
            names.setdefault(".".join(parts), path)
            folder = folder.parent
    return names


def _strict_warning(a: str, b: str, span: SourceSpan) -> Diagnostic:
    return Diagnostic(
        DIM_NAMES,
        "warning",
        f"dims {a} and {b} must be equal here, but they have different names",
        span,
        ("use one name for the dim, or check that the sizes agree",),
    )
