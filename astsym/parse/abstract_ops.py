"""The converted code's helpers (``__ag``) as the static analyzer runs them: the same
decisions as ``operators.py`` (whose functions do the work), plus what to do when a
condition, an iterable or a value is ``UNKNOWN`` — follow every path, and let a name that
may differ afterwards be unknown.
"""

from __future__ import annotations

from astsym.graph.basic import Variable
from astsym.graph.convert import as_tensor_variable
from astsym.graph.shared import SharedVariable

from . import operators, sandbox
from .interpret import MAX_UNROLL, join_values
from .sandbox import UNKNOWN, is_unknown


def _helper(fn):
    fn.__astsym_helper__ = True
    return fn


def _symbolic(value) -> bool:
    return isinstance(value, (Variable, operators.SymbolicRange))


def _join(before, after) -> tuple:
    return tuple(join_values([a, b]) for a, b in zip(before, after))


def _keep_known(body_fn, skip: int):
    """``body_fn`` whose unknown results fall back to the state it was given (the loop keeps
    the types it can know; an unknown value never makes a loop-carried type error)."""

    def body(*args):
        out = list(body_fn(*args))
        state = args[skip:]
        for i, value in enumerate(out):
            if is_unknown(value) and i < len(state):
                out[i] = state[i]
        return tuple(out)

    return body


class AbstractOps:
    """``__ag`` for interpreted code; ``interp`` calls functions for ``call``."""

    def __init__(self, interp) -> None:
        self.interp = interp

    # names converted code uses as they are
    read = staticmethod(_helper(operators.read))
    ret = staticmethod(_helper(operators.ret))
    python_cond = staticmethod(_helper(operators.python_cond))
    python_iter = staticmethod(_helper(operators.python_iter))

    @_helper
    def call(self, fn, *args, **kwargs):
        return self.interp.invoke(fn, args, kwargs)

    @staticmethod
    @_helper
    def outer(closure: dict, module_globals: dict, name: str):
        if name in closure:
            return closure[name]
        if name in module_globals:
            return module_globals[name]
        return sandbox.SAFE_BUILTINS.get(name, operators.Undefined(name))

    @staticmethod
    @_helper
    def eq(a, b):
        return UNKNOWN if is_unknown(a) or is_unknown(b) else operators.eq(a, b)

    @staticmethod
    @_helper
    def ne(a, b):
        return UNKNOWN if is_unknown(a) or is_unknown(b) else operators.ne(a, b)

    @staticmethod
    @_helper
    def range_(*args):
        return UNKNOWN if any(is_unknown(a) for a in args) else operators.range_(*args)

    @staticmethod
    @_helper
    def assign(target, value):
        if isinstance(target, (SharedVariable, Variable)) and not is_unknown(value):
            return as_tensor_variable(value)
        return UNKNOWN

    # -- if -------------------------------------------------------------------------------
    @staticmethod
    @_helper
    def if_stmt(cond, true_fn, false_fn, names, init, site):
        if not is_unknown(cond) and not _symbolic(cond):
            return operators.if_stmt(cond, true_fn, false_fn, names, init, site)
        then, other = true_fn(*init), false_fn(*init)
        if is_unknown(cond):
            return _join(then, other)
        unknown = [is_unknown(a) or is_unknown(b) for a, b in zip(then, other)]
        then = tuple(UNKNOWN if u else a for u, a in zip(unknown, then))
        other = tuple(UNKNOWN if u else b for u, b in zip(unknown, other))
        return operators.if_stmt(cond, lambda *_: then, lambda *_: other, names, init, site)

    @_helper
    def if_exp(self, cond, then_fn, else_fn, site):
        if not is_unknown(cond) and not _symbolic(cond):
            return operators.if_exp(cond, then_fn, else_fn, site)
        (value,) = self.if_stmt(
            cond, lambda: (then_fn(),), lambda: (else_fn(),), ("value",), (), site
        )
        return value

    # -- loops ----------------------------------------------------------------------------
    @staticmethod
    @_helper
    def for_stmt(iterable, body_fn, names, init, brk, site, taps=()):
        if isinstance(iterable, operators.Undefined):
            iterable.fail_as_operand()
        if _symbolic(iterable):
            body = _keep_known(body_fn, 1 + len(taps))
            return operators.for_stmt(iterable, body, names, init, brk, site, taps)
        small = (
            isinstance(iterable, (range, list, tuple, str, dict)) and len(iterable) <= MAX_UNROLL
        )
        if small:
            return operators.for_stmt(iterable, body_fn, names, init, brk, site, taps)
        item = UNKNOWN
        if isinstance(iterable, (range, list, tuple)) and len(iterable):
            item = iterable[0]
        new = body_fn(item, *[UNKNOWN] * len(taps), *init)
        return _join(init, new)

    @staticmethod
    @_helper
    def while_stmt(cond_fn, body_fn, names, init, brk, site):
        first = cond_fn(*init)
        if _symbolic(first):
            return operators.while_stmt(cond_fn, _keep_known(body_fn, 0), names, init, brk, site)
        state = tuple(init)
        for _ in range(MAX_UNROLL):
            go = cond_fn(*state)
            if is_unknown(go) or _symbolic(go):
                break
            if not go:
                return state
            state = body_fn(*state)
            if brk is not None:
                flag = state[names.index(brk)]
                if _symbolic(flag):  # a symbolic break in a Python loop: tracing refuses it
                    operators._python_flag(flag, site)
                if is_unknown(flag):
                    break
                if flag:
                    return state
        new = body_fn(*state)
        return _join(init, _join(state, new))
