"""What converted code calls (``__ag.if_stmt`` and friends): each decides, while tracing,
whether a statement is Python control flow or becomes graph nodes.

- ``if_stmt``: a Python condition runs one branch; a symbolic scalar gives a lazy
  ``ifelse`` over the state; a symbolic array gives an elementwise ``switch``.
- ``for_stmt``: over a Python iterable, plain Python; over a tensor's leading axis or a
  ``range`` with a symbolic bound, a ``scan`` carrying the state.
- ``while_stmt``: a Python condition loops in Python; a symbolic one becomes a ``scan`` with
  an ``until``, bounded by ``max_iters`` (exceeding it is an error when the graph runs).
"""

from __future__ import annotations

import builtins
import contextlib
import contextvars
from dataclasses import dataclass, field

from astsym.graph.basic import Variable
from astsym.graph.convert import as_tensor_variable, is_python_scalar
from astsym.graph.ops import arange, check, shape_i, where
from astsym.graph.ops.ifelse import ifelse
from astsym.graph.scan import scan, until
from astsym.typecheck import GraphTypeError, codes
from astsym.typecheck.diagnostics import error


@dataclass
class TraceState:
    """What a trace collects: the final values of names that may be shared variables, what
    each converted statement became, and the options."""

    final: dict = field(default_factory=dict)
    outcomes: dict = field(default_factory=dict)  # site index -> "ifelse", "scan", ...
    max_iters: int = 10_000
    span_of: object = None  # site -> SourceSpan
    inner_updates: list = field(default_factory=list)  # from @symbolic functions inlined


def current_trace() -> TraceState | None:
    return _TRACE.get()


_TRACE: contextvars.ContextVar[TraceState | None] = contextvars.ContextVar(
    "astsym_trace", default=None
)


@contextlib.contextmanager
def tracing(state: TraceState):
    token = _TRACE.set(state)
    try:
        yield state
    finally:
        _TRACE.reset(token)


def _note(site, outcome: str) -> None:
    state = _TRACE.get()
    if state is not None and site is not None:  # keyed by place: helpers have sites too
        state.outcomes.setdefault(site_key(site.span), outcome)


def site_key(span) -> tuple:
    return (span.file, span.line, span.col)


def _site_error(site, code: str, message: str, *notes: str) -> GraphTypeError:
    state = _TRACE.get()
    span = state.span_of(site) if state is not None and state.span_of else None
    return GraphTypeError(error(code, message, span, tuple(n for n in notes if n)))


class UndefinedNameError(GraphTypeError, NameError):
    """A name used where it has no value (assigned in only one branch of a symbolic if)."""


class Undefined:
    """The value of a name that is not assigned (yet, or on every path): using it is an
    error that says where and why."""

    def __init__(
        self,
        name: str,
        reason: str = "is used before it is assigned",
        span=None,
        code: str = codes.ONE_BRANCH,
    ) -> None:
        self.name, self.reason, self.span, self.code = name, reason, span, code

    def _fail(self, *args, **kwargs):
        from astsym.graph.source import current_span

        span = current_span() or self.span
        raise UndefinedNameError(error(self.code, f"{self.name!r} {self.reason}", span))

    __getattr__ = _fail
    fail_as_operand = _fail  # as_tensor_variable calls it: an op given this name fails
    __abs__ = _fail
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _fail
    __truediv__ = __rtruediv__ = __pow__ = __matmul__ = __getitem__ = __call__ = _fail
    __neg__ = __lt__ = __gt__ = __le__ = __ge__ = __bool__ = __iter__ = _fail


def eq(a, b):
    """``a == b`` in converted code: elementwise on symbolic values (NumPy's meaning), not
    Theano's identity, so ``if x == 0`` is a symbolic condition."""
    from astsym.graph.ops import equal

    return equal(a, b) if is_symbolic(a) or is_symbolic(b) else a == b


def ne(a, b):
    """``a != b`` in converted code: elementwise on symbolic values."""
    from astsym.graph.ops import not_equal

    return not_equal(a, b) if is_symbolic(a) or is_symbolic(b) else a != b


def is_symbolic(value) -> bool:
    return isinstance(value, Variable)


# -- reading the state ---------------------------------------------------------------------
def read(local_vars: dict, names: tuple) -> tuple:
    return tuple(local_vars.get(n, Undefined(n)) for n in names)


def outer(closure: dict, module_globals: dict, name: str):
    """A local's value before its first assignment: the closure's or the module's value
    of that name (so ``w -= ...`` on a module-level shared variable reads it first)."""
    if name in closure:
        return closure[name]
    if name in module_globals:
        return module_globals[name]
    return getattr(builtins, name, Undefined(name))


def ret(value, state: tuple):
    trace = _TRACE.get()
    if trace is not None:
        trace.final = state
    return value


# -- guards for what cannot be converted -----------------------------------------------------
def python_cond(value, site):
    if is_symbolic(value):
        raise _site_error(
            site,
            codes.UNSUPPORTED,
            f"this `{site.kind}` depends on a symbolic value but has {site.note}",
            "rewrite it so both branches assign the "
            "same variables (or both return), and use `if c: break` as the last "
            "statement of a loop",
        )
    return value


def python_iter(value, site):
    if is_symbolic(value) or isinstance(value, SymbolicRange):
        raise _site_error(
            site,
            codes.UNSUPPORTED,
            f"this loop runs over a symbolic value but has {site.note}",
            "a symbolic loop's body must be plain statements with at most a final `if c: break`",
        )
    return value


# -- calls ---------------------------------------------------------------------------------
def call(fn, *args, **kwargs):
    """Call ``fn``; a plain Python function of the user's is converted first (recursively,
    so its control flow on symbolic values works too)."""
    from .loader import converted_or_none

    target = converted_or_none(fn)
    return (target or fn)(*args, **kwargs)


@dataclass(frozen=True)
class SymbolicRange:
    start: object
    stop: object
    step: object


def range_(*args):
    """``range`` with symbolic bounds becomes a symbolic range (a scan over arange)."""
    if not any(is_symbolic(a) for a in args):
        return builtins.range(*args)
    start, stop, step = (0, args[0], 1) if len(args) == 1 else (*args, 1)[:3]
    return SymbolicRange(start, stop, step)


# -- if --------------------------------------------------------------------------------------
def if_stmt(cond, true_fn, false_fn, names, init, site):
    if not is_symbolic(cond):
        _note(site, "python")
        return true_fn(*init) if cond else false_fn(*init)
    then, other = true_fn(*init), false_fn(*init)
    if cond.ndim == 0:
        _note(site, "ifelse")
        return _merge(names, then, other, lambda a, b: ifelse(cond, a, b), site)
    _note(site, "switch")
    return _merge(names, then, other, lambda a, b: where(cond, a, b), site)


def _merge(names, then, other, join, site) -> tuple:
    out, pairs = [], []
    for name, a, b in zip(names, then, other):
        if a is b:
            out.append(a)
        elif isinstance(a, Undefined) or isinstance(b, Undefined):
            reason = f"is assigned in only one branch of the symbolic `if` at line {site.line}"
            out.append(Undefined(name, reason, getattr(site, "span", None)))
        elif _tensor_like(a) and _tensor_like(b):
            out.append(None)
            pairs.append((len(out) - 1, as_tensor_variable(a), as_tensor_variable(b)))
        else:
            raise _site_error(
                site,
                codes.BRANCH,
                f"{name!r} is {type(a).__name__} in one branch "
                f"and {type(b).__name__} in the other of a symbolic `if`",
            )
    for index, a, b in pairs:
        try:
            out[index] = join(a, b)
        except GraphTypeError as err:
            message = f"{names[index]!r}: {err.diagnostic.message}"
            raise _site_error(site, codes.BRANCH, message) from None
    return tuple(out)


def _tensor_like(value) -> bool:
    return is_symbolic(value) or is_python_scalar(value) or hasattr(value, "__array__")


def if_exp(cond, then_fn, else_fn, site):
    """``a if c else b``: Python when ``c`` is; else a lazy ifelse (scalar) or a switch."""
    if not is_symbolic(cond):
        _note(site, "python")
        return then_fn() if cond else else_fn()
    (value,) = if_stmt(cond, lambda: (then_fn(),), lambda: (else_fn(),), ("value",), (), site)
    return value


def assign(target, value):
    """``w.assign(e)`` in a @symbolic function: ``w`` is ``e`` from here on (an update when
    ``w`` is a shared variable); on anything else, the object's own ``assign``."""
    from astsym.graph.shared import SharedVariable

    if isinstance(target, SharedVariable) or is_symbolic(target):
        return as_tensor_variable(value)
    target.assign(value)
    return target


# -- for -------------------------------------------------------------------------------------
def for_stmt(iterable, body_fn, names, init, brk, site, taps=()):
    """``taps``: the body's ``x[t + k]`` reads, as (x, k) pairs, passed to it before the
    state (read through scan taps when the range allows it, else by indexing)."""
    if isinstance(iterable, SymbolicRange):
        fast = _tap_sequences(iterable, taps)
        if fast is not None:
            return _scan_loop(fast[0], body_fn, names, init, brk, site, taps, fast[1])
        start, stop, step = iterable.start, iterable.stop, iterable.step
        return _scan_loop(arange(start, stop, step), body_fn, names, init, brk, site, taps)
    if is_symbolic(iterable):
        return _scan_loop(iterable, body_fn, names, init, brk, site, taps)
    _note(site, "unrolled")
    state = tuple(init)
    for item in iterable:
        state = body_fn(item, *[x[item + k] for x, k in taps], *state)
        if brk is not None and _python_flag(state[names.index(brk)], site):
            break
    return state


def _tap_sequences(rng: SymbolicRange, taps):
    """Sequences with taps for ``for t in range(start, n)`` reading ``x[t + k]``, when the
    reads can never wrap around (``start + k >= 0`` for every tap, step 1); else None."""
    if not taps or not isinstance(rng.start, int) or rng.step != 1:
        return None
    if not all(is_symbolic(x) and rng.start + k >= 0 for x, k in taps):
        return None
    groups: dict[int, tuple] = {}
    for x, k in taps:
        key = id(x)
        groups[key] = (x, sorted(set(groups.get(key, (x, []))[1]) | {k}))
    sequences = [arange(rng.start, rng.stop)]
    order = []
    for x, ks in groups.values():
        lo = min(min(ks), 0)
        sequences.append(dict(input=x[rng.start + lo :], taps=ks))
        order += [(id(x), k) for k in ks]
    return sequences, [order.index((id(x), k)) for x, k in taps]


def _python_flag(value, site) -> bool:
    if is_symbolic(value):
        raise _site_error(
            site,
            codes.UNSUPPORTED,
            "a symbolic `break` condition inside a loop over a Python value",
            "loop over a tensor or a symbolic range instead",
        )
    return bool(value)


def _scan_loop(sequence, body_fn, names, init, brk, site, taps=(), tap_order=None):
    _note(site, "scan")
    carried = [i for i, v in enumerate(init) if not isinstance(v, Undefined) and _tensor_like(v)]
    starts = [as_tensor_variable(init[i]) for i in carried]
    n_items = 1 + (len(set(tap_order)) if tap_order is not None else 0)

    def step(*args):
        item, items, prev = args[0], args[1:n_items], args[n_items:]
        if tap_order is not None:  # the taps came in as sequence items
            tap_values = [items[j] for j in tap_order]
        else:
            tap_values = [x[item + k] for x, k in taps]
        state = list(init)
        for i, value in zip(carried, prev):
            state[i] = value
        sizes = _list_sizes(state)
        new = body_fn(item, *tap_values, *state)
        _no_growth(names, state, sizes, site)
        outs = [_carried_value(names[i], new[i], prev[k], site) for k, i in enumerate(carried)]
        if brk is not None:
            return outs, until(new[names.index(brk)])
        return outs

    n_steps = None
    if tap_order is not None:  # as many steps as the range: a read past the end must fail
        first = sequence[0]
        n_steps = shape_i(first, 0)
    try:
        outs, updates = scan(
            step,
            sequences=sequence,
            outputs_info=starts,
            n_steps=n_steps,
            return_list=True,
            name=f"for@{site.line}",
        )
    except GraphTypeError as err:
        diag = err.diagnostic
        raise _site_error(site, diag.code, diag.message, *diag.notes) from None
    return _final_state(init, carried, outs, names)


def _list_sizes(state) -> dict:
    return {i: len(v) for i, v in enumerate(state) if isinstance(v, list)}


def _no_growth(names, state, sizes, site) -> None:
    """A Python list grown in a symbolic loop would hold one traced value, not one per step."""
    for i, size in sizes.items():
        if len(state[i]) != size:
            raise _site_error(
                site,
                codes.UNSUPPORTED,
                f"the list {names[i]!r} grows inside a "
                "symbolic loop, which runs as one traced step",
                "assign the value each step instead (`h = ...`): the loop's "
                "outputs are stacked over the steps; or loop over a Python range",
            )


def _carried_value(name, value, prev, site):
    if isinstance(value, Undefined):
        raise _site_error(site, codes.LOOP_CARRY, f"{name!r} is not assigned in the loop body")
    value = as_tensor_variable(value)
    if value.dtype != prev.dtype or value.ndim != prev.ndim:
        raise _site_error(
            site,
            codes.LOOP_CARRY,
            f"{name!r} changes from {prev.type.short()} to {value.type.short()} in the loop",
            "keep the dtype and rank of "
            "a loop-carried variable: cast it or reshape it before the loop",
        )
    return value


def _final_state(init, carried, outs, names) -> tuple:
    from astsym.graph.scan.build import _last_or

    state = list(init)
    for i, out in zip(carried, outs):
        state[i] = _last_or(out, as_tensor_variable(init[i]))
    return tuple(state)


# -- while -----------------------------------------------------------------------------------
def while_stmt(cond_fn, body_fn, names, init, brk, site):
    state = tuple(init)
    first = cond_fn(*state)
    if not is_symbolic(first):
        _note(site, "python")
        while _python_flag(cond_fn(*state), site):
            state = body_fn(*state)
            if brk is not None and _python_flag(state[names.index(brk)], site):
                break
        return state
    return _scan_while(cond_fn, body_fn, names, init, brk, site)


def _scan_while(cond_fn, body_fn, names, init, brk, site):
    _note(site, "scan")
    trace = _TRACE.get()
    limit = trace.max_iters if trace is not None else 10_000
    carried = [i for i, v in enumerate(init) if not isinstance(v, Undefined) and _tensor_like(v)]
    starts = [as_tensor_variable(init[i]) for i in carried]

    def step(*prev):
        state = list(init)
        for i, value in zip(carried, prev):
            state[i] = value
        go = as_tensor_variable(cond_fn(*state))
        sizes = _list_sizes(state)
        new = body_fn(*state)
        _no_growth(names, state, sizes, site)
        moved = [_carried_value(names[i], new[i], prev[k], site) for k, i in enumerate(carried)]
        outs = list(ifelse(go, moved, list(prev))) if moved else []
        stop = ~go if brk is None else (~go) | as_tensor_variable(new[names.index(brk)])
        return outs + [stop], until(stop)

    outs, _ = scan(
        step,
        outputs_info=starts + [None],
        n_steps=limit,
        return_list=True,
        name=f"while@{site.line}",
    )
    from astsym.graph.source import fixed_span

    final = _final_state(init, carried, outs[:-1], names)
    finished = outs[-1][-1]  # the last step stopped the loop (its condition or a break)
    message = f"the while loop at line {site.line} ran max_iters={limit} iterations"
    with fixed_span(site.span):  # the error, if the loop runs out, points at the while
        return tuple(
            check(v, finished, message) if i in carried else v for i, v in enumerate(final)
        )
