"""``@symbolic``: a plain Python function becomes a compiled graph function.

    >>> import numpy as np
    >>> from astsym import symbolic, f64
    >>> @symbolic
    ... def clipped_norm(x: f64["n"]):
    ...     total = (x * x).sum()
    ...     if total > 1:            # a symbolic condition: a lazy ifelse
    ...         total = total / total
    ...     return total
    >>> clipped_norm(np.array([0.3, 0.4]))
    array(0.25)

Parameters annotated with ``f32[...]`` etc. are symbolic with that type; unannotated array
and float arguments are symbolic with the first call's dtype and rank; Python bools, ints,
strings, None and tuples are static (part of the cache key). One compiled version exists
per signature. Shared variables the body rebinds (``w -= 0.1 * g``) are updated after the
call, all together, only if it succeeded.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
from dataclasses import dataclass

import numpy as np

from astsym.config import config
from astsym.graph.basic import Variable
from astsym.graph.convert import as_tensor_variable
from astsym.graph.shared import SharedVariable
from astsym.graph.source import current_span, fixed_span, resolve_span
from astsym.graph.type import TensorType, is_device_array
from astsym.graph.updates import fit_update
from astsym.parse.annotations import DTypeSpec, TensorSpec, check_argument, check_return
from astsym.parse.loader import load
from astsym.parse.operators import (
    TraceState,
    Undefined,
    current_trace,
    outer,
    site_key,
    tracing,
)
from astsym.typecheck import AstsymError, Diagnostic, GraphTypeError, RuleError, SourceSpan
from astsym.typecheck.diagnostics import error
from astsym.typecheck.shapes import dim_scope

from .function import function
from .mode import Mode

_STATIC = (bool, int, str, type(None), tuple)


@dataclass
class Traced:
    """The graph of one signature: inputs, outputs, shared-variable updates."""

    inputs: list
    outputs: list
    updates: list
    structure: str  # "none" | "single" | "tuple" | "list"
    outcomes: dict


def symbolic(
    fn=None,
    *,
    device=None,
    mode=None,
    allow_input_downcast: bool = False,
    max_iters: int = 10_000,
    return_numpy: bool | None = None,
):
    """Decorate ``fn`` (bare, or with options) to trace and compile it on first call.

    ``device``: ``'cpu'``, ``'gpu'`` or ``'auto'`` (default: ``config.device``), or a
    ``mode``; ``return_numpy``: on the GPU, return NumPy arrays instead of CuPy arrays
    (default: ``config.gpu_outputs``).
    """
    options = (device, mode, allow_input_downcast, max_iters, return_numpy)
    if fn is None:
        return lambda f: SymbolicFunction(f, *options)
    return SymbolicFunction(fn, *options)


class SymbolicFunction:
    def __init__(
        self,
        fn,
        device=None,
        mode=None,
        allow_input_downcast=False,
        max_iters=10_000,
        return_numpy=None,
    ):
        functools.update_wrapper(self, fn)
        if device is not None:
            if mode is not None:
                raise ValueError("@symbolic takes device= or mode=, not both")
            mode = Mode(device=device)  # checks the name; a missing GPU fails on first call
        self.fn, self.mode, self.max_iters = fn, mode, max_iters
        self.return_numpy = return_numpy
        self.allow_input_downcast = allow_input_downcast
        self.signature = inspect.signature(fn)
        self.annotations = inspect.get_annotations(fn, eval_str=True)
        self._compiled: dict = {}
        self._last: Traced | None = None

    # -- calling -----------------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        bound = self.signature.bind(*args, **kwargs)
        bound.apply_defaults()
        if any(isinstance(v, Variable) for v in bound.arguments.values()):
            return self._inline(bound)
        kinds = {name: self._kind(name, value) for name, value in bound.arguments.items()}
        key = tuple(sorted(kinds.items(), key=lambda kv: kv[0]))
        if key not in self._compiled:
            self._compiled[key] = self._compile(kinds, bound)
        compiled, names, structure = self._compiled[key]
        result = compiled(*[bound.arguments[n] for n in names])
        return _restructure(result, structure)

    def _kind(self, name: str, value):
        """('sym', dtype, ndim) for a symbolic parameter, ('static', value) otherwise."""
        spec = self.annotations.get(name)
        if isinstance(spec, (TensorSpec, DTypeSpec)):
            return ("sym", spec.dtype, _ndim(value, spec))
        if isinstance(value, np.ndarray | np.generic) or is_device_array(value):
            return ("sym", value.dtype.name, value.ndim)
        if isinstance(value, float):
            return ("sym", config.floatX, 0)
        if isinstance(value, _STATIC):
            return ("static", value)
        raise TypeError(
            f"{self.__name__}: argument {name!r} is {type(value).__name__}; pass "
            "an array, a number, or a hashable static value"
        )

    def _compile(self, kinds: dict, bound):
        traced = self._trace_kinds(kinds)
        names = [n for n, k in kinds.items() if k[0] == "sym"]
        compiled = function(
            traced.inputs,
            traced.outputs,
            updates=traced.updates,
            mode=self.mode,
            allow_input_downcast=self.allow_input_downcast,
            on_unused_input="ignore",
            name=self.__name__,
            return_numpy=self.return_numpy,
        )
        return compiled, names, traced.structure

    def _inline(self, bound):
        """Called on symbolic values (inside another trace): its graph is inlined, and the
        shared-variable updates it makes join those of the enclosing function."""
        parent = current_trace()
        self._check_arguments(bound)
        loaded = load(self.fn)
        state = TraceState(max_iters=self.max_iters, span_of=_site_span)
        with tracing(state):
            result = loaded.function(*bound.args, **bound.kwargs)
        if parent is not None:
            parent.inner_updates += self._updates(loaded, state.final) + state.inner_updates
        return result

    # -- tracing -----------------------------------------------------------------------
    def _trace_kinds(self, kinds: dict) -> Traced:
        args, inputs = {}, []
        for name, kind in kinds.items():
            if kind[0] == "static":
                args[name] = kind[1]
                continue
            var = self._param_type(name, kind)(name)
            args[name], inputs = var, inputs + [var]
        loaded = load(self.fn)
        state = TraceState(max_iters=self.max_iters, span_of=_site_span)
        with tracing(state), dim_scope():
            result = loaded.function(**args)
            outputs, structure = _outputs(result)
            self._check_return(outputs, structure)
            updates = self._updates(loaded, state.final)
            for shared, value in updates:
                _fit(shared, value)
        updates += [(s, e) for s, e in state.inner_updates if all(s is not u for u, _ in updates)]
        self._last = Traced(inputs, outputs, updates, structure, dict(state.outcomes))
        return self._last

    def _check_arguments(self, bound) -> None:
        """Symbolic arguments of an inlined call must fit the parameters' annotations."""
        dims: dict = {}
        for name, value in bound.arguments.items():
            spec = self.annotations.get(name)
            if isinstance(spec, TensorSpec):
                where = f"argument {name!r} of {self.__name__}()"
                try:
                    check_argument(spec, value, where, dims)
                except RuleError as err:
                    raise GraphTypeError(error(err.code, err.message, current_span())) from None

    def _check_return(self, outputs: list, structure: str) -> None:
        spec = self.annotations.get("return")
        if isinstance(spec, TensorSpec) and structure == "single":
            try:
                check_return(spec, outputs[0])
            except RuleError as err:
                span = fixed_span_of(self.fn)
                raise GraphTypeError(error(err.code, err.message, span)) from None

    def _param_type(self, name, kind) -> TensorType:
        spec = self.annotations.get(name)
        if isinstance(spec, TensorSpec):
            return spec.to_type(kind[2])
        return TensorType(kind[1], shape=(None,) * kind[2])

    def _updates(self, loaded, final: tuple) -> list:
        closure = _closure(self.fn)
        updates = []
        for name, value in zip(loaded.conversion.shared_candidates, final):
            start = outer(closure, self.fn.__globals__, name)
            if isinstance(start, SharedVariable) and value is not start:
                if isinstance(value, Undefined):
                    continue
                updates.append((start, as_tensor_variable(value)))
        return updates

    # -- inspection ----------------------------------------------------------------------
    def trace(self, *types_or_args) -> Traced:
        """The graph for the given argument types (TensorTypes / annotations) or examples."""
        kinds = {}
        for (name, _), value in zip(self.signature.parameters.items(), types_or_args):
            if isinstance(value, TensorType):
                kinds[name] = ("sym", value.dtype, value.ndim)
            elif isinstance(value, TensorSpec):
                kinds[name] = ("sym", value.dtype, len(value.dims))
            else:
                kinds[name] = self._kind(name, value)
        return self._trace_kinds(kinds)

    def check(self) -> list[Diagnostic]:
        """Trace with the annotations' types (nothing runs); the errors found, as diagnostics."""
        kinds = {}
        for name, _param in self.signature.parameters.items():
            spec = self.annotations.get(name)
            if not isinstance(spec, TensorSpec) or spec.has_ellipsis:
                return []  # an unannotated parameter: only a call can tell its type
            kinds[name] = ("sym", spec.dtype, len(spec.dims))
        try:
            self._trace_kinds(kinds)
        except AstsymError as err:
            return [err.diagnostic]
        except RuleError as err:
            return [Diagnostic(err.code, "error", err.message)]
        return []

    def source(self) -> str:
        """The converted code that tracing runs."""
        return load(self.fn).conversion.code

    def explain(self) -> str:
        """For each if/for/while: what the last trace made of it, and why."""
        loaded = load(self.fn)
        outcomes = self._last.outcomes if self._last is not None else {}
        lines = []
        for site in sorted(loaded.conversion.sites, key=lambda s: (s.line, s.col)):
            line = site.line + loaded.first_line - 1
            if site.kind == "break":
                lines.append(f"line {line}: `if ...: break` -> the loop's until (it ends the loop)")
                continue
            span = loaded.site_span(site)
            what = outcomes.get(site_key(span), "not reached by the last trace")
            why = _WHY.get(what, "")
            lines.append(
                f"line {line}: `{site.kind}` -> {what}{why}"
                + (f" (left as Python: {site.note})" if site.note else "")
            )
        return "\n".join(lines)


_WHY = {
    "python": ": its condition is a Python value, decided while tracing",
    "ifelse": ": its condition is a symbolic scalar (only the taken branch runs)",
    "switch": ": its condition is a symbolic array (both branches, elementwise)",
    "scan": ": it runs over a symbolic value",
    "unrolled": ": it runs over a Python value, unrolled while tracing",
}


def _site_span(site):
    return getattr(site, "span", None)


def _ndim(value, spec) -> int:
    if isinstance(spec, TensorSpec) and not spec.has_ellipsis:
        return len(spec.dims)
    return int(np.ndim(value))


def _closure(fn) -> dict:
    out = {}
    for name, cell in zip(fn.__code__.co_freevars, fn.__closure__ or ()):
        try:
            out[name] = cell.cell_contents
        except ValueError:
            continue
    return out


def _fit(shared, value) -> None:
    """The update rule of ``function`` (AS206/AS305), checked while tracing."""
    try:
        fit_update(shared, value)
    except RuleError as err:
        span = resolve_span(value.owner.span) if value.owner is not None else None
        raise GraphTypeError(error(err.code, err.message, span, err.notes)) from None


def fixed_span_of(fn) -> SourceSpan | None:
    """The span of ``fn``'s return annotation (where the linter reports AS210), else of
    its def line."""
    try:
        lines, first = inspect.getsourcelines(fn)
        file = inspect.getsourcefile(fn) or "<unknown>"
    except (OSError, TypeError):
        return None
    start = next(
        (i for i, t in enumerate(lines) if t.lstrip().startswith(("def ", "async def "))), 0
    )
    for i in range(start, len(lines)):
        text = lines[i].split("#")[0]
        if "->" in text:
            col = text.index("->") + 2
            col += len(text[col:]) - len(text[col:].lstrip())
            return SourceSpan(file, first + i, col + 1)
        if text.rstrip().endswith(":"):
            break
    return SourceSpan(file, first + start, 1)


def _outputs(result) -> tuple[list, str]:
    for value in result if isinstance(result, (tuple, list)) else [result]:
        if isinstance(value, Undefined):  # returning a name assigned in only one branch
            with fixed_span(value.span) if value.span is not None else _nothing():
                value._fail()
    if result is None:
        return [], "none"
    if isinstance(result, tuple):
        return [as_tensor_variable(r) for r in result], "tuple"
    if isinstance(result, list):
        return [as_tensor_variable(r) for r in result], "list"
    return [as_tensor_variable(result)], "single"


def _restructure(values, structure: str):
    if structure == "none":
        return None
    if structure == "single":
        return values[0]
    return tuple(values) if structure == "tuple" else list(values)


def _nothing():
    return contextlib.nullcontext()
