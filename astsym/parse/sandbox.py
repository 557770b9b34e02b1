"""What the static analyzer may call while it interprets a user's file: astsym's own graph
building, NumPy when a symbolic value dispatches it to astsym (or to build a small constant
from literal arguments), and pure builtins. Anything else (the user's I/O, a library it
cannot know) gives ``UNKNOWN``, a value that never produces an error.

    >>> is_unknown(call(open, ("data.txt", "w"), {}))
    True
    >>> call(max, (1, 2), {})
    2
"""

from __future__ import annotations

import builtins
import math
import operator
import types

import numpy as np

from astsym.graph.basic import Variable


class Unknown:
    """A value the analyzer cannot know: every operation on it gives ``UNKNOWN``."""

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "<unknown>"

    def __bool__(self) -> bool:  # never decided: callers check is_unknown first
        raise TypeError("the truth of an unknown value is not known")


UNKNOWN = Unknown()


def is_unknown(value) -> bool:
    return value is UNKNOWN


#: The largest array the analyzer builds from literal arguments (module-level constants).
MAX_ELEMENTS = 2_000_000
#: The longest Python sequence it builds or iterates exactly.
MAX_ITEMS = 100_000

_PURE_BUILTINS = {
    "abs", "all", "any", "bool", "complex", "dict", "divmod", "enumerate", "float", "frozenset",
    "int", "isinstance", "issubclass", "len", "list", "max", "min", "pow", "range", "reversed",
    "round", "set", "slice", "sorted", "str", "sum", "tuple", "zip", "map", "filter", "repr",
    "hash", "callable", "type", "getattr", "hasattr", "iter", "next", "ord", "chr", "format",
}  # fmt: skip
#: Builtins the analyzer lets user code name (calling them goes through ``call``).
SAFE_BUILTINS = {name: getattr(builtins, name) for name in _PURE_BUILTINS}
SAFE_BUILTINS.update(
    {
        "print": print,
        "True": True,
        "False": False,
        "None": None,
        "Ellipsis": Ellipsis,
        "NotImplemented": NotImplemented,
    }
)
for _name in dir(builtins):  # exception classes: ``raise ValueError(...)`` is followed
    _value = getattr(builtins, _name)
    if isinstance(_value, type) and issubclass(_value, BaseException):
        SAFE_BUILTINS[_name] = _value

#: Modules a user's import may bind (anything else imports as UNKNOWN).
MODULES = ("numpy", "math", "astsym")

# astsym callables that run, print, write or compile rather than build graph nodes
_BLOCKED = {
    "function", "pfunc", "eval", "pydotprint", "debugprint", "dprint", "pp", "verify_grad",
    "set_value", "get_value", "symbolic", "dump", "dumps", "load", "loads", "copy",
}  # fmt: skip
_BLOCKED_MODULES = ("astsym.runtime", "astsym.printing", "astsym.graph.printing",
                    "astsym.graph.pretty", "astsym.graph.dot", "astsym.graph.evaluate",
                    "astsym.cli", "astsym.pytest_plugin", "astsym.parse")  # fmt: skip


def module_allowed(name: str) -> bool:
    root = name.split(".")[0]
    return root in MODULES and not name.startswith(_BLOCKED_MODULES)


def contains(value, predicate, depth: int = 0) -> bool:
    """Whether ``value``, or anything in the lists, tuples and dicts it holds, satisfies
    ``predicate``."""
    if predicate(value):
        return True
    if depth > 4:
        return False
    if isinstance(value, (list, tuple)):
        return any(contains(v, predicate, depth + 1) for v in value)
    if isinstance(value, dict):
        return any(contains(v, predicate, depth + 1) for v in value.values())
    if isinstance(value, slice):
        return any(contains(v, predicate, depth + 1) for v in (value.start, value.stop))
    return False


def call(fn, args: tuple, kwargs: dict):
    """``fn(*args, **kwargs)`` when the policy allows it, else ``UNKNOWN``."""
    everything = (*args, *kwargs.values())
    if is_unknown(fn) or contains(everything, is_unknown):
        return UNKNOWN
    if fn is print:
        return None
    if not _allowed(fn, args, kwargs):
        return UNKNOWN
    return fn(*args, **kwargs)


def _allowed(fn, args, kwargs) -> bool:
    if isinstance(fn, type) and issubclass(fn, BaseException):
        return True
    name = getattr(fn, "__name__", "")
    if name in _BLOCKED:
        return False
    owner = getattr(fn, "__self__", None)
    module = getattr(fn, "__module__", None) or type(fn).__module__ or ""
    if isinstance(owner, Variable):
        return True
    if any(fn is b for b in SAFE_BUILTINS.values()):
        return _small_builtin_call(fn, args)
    if owner is not None and isinstance(owner, (list, dict, set, str, tuple, int, float)):
        return all(_bounded(a) and not _big_int(a) for a in (*args, *kwargs.values()))
    if module.startswith("astsym"):
        return module_allowed(module)
    if module == "math" or owner is math:
        return name not in ("factorial", "comb", "perm", "prod") and _scalars(args, kwargs)
    if _numpy(fn, module, owner):
        return _numpy_allowed(fn, name, args, kwargs, owner)
    return False


def _numpy(fn, module: str, owner) -> bool:
    return (
        module.startswith("numpy")
        or isinstance(fn, np.ufunc)
        or (isinstance(fn, type) and issubclass(fn, (np.generic, np.dtype)))
        or isinstance(owner, (np.ndarray, np.generic, np.random.Generator))
        or owner is np.random
    )


def _scalars(args, kwargs) -> bool:
    return all(
        isinstance(v, (int, float, complex, bool, np.generic)) for v in (*args, *kwargs.values())
    )


def _small_builtin_call(fn, args) -> bool:
    if fn in (list, tuple, set, frozenset, sorted, sum, min, max, any, all, dict, map, filter):
        return all(_bounded(a) for a in args)
    if fn is pow and len(args) >= 2:
        return _safe_pow(args[0], args[1])
    return True


def _bounded(value) -> bool:
    try:
        return (
            not isinstance(value, (range, list, tuple, str, dict, set)) or len(value) <= MAX_ITEMS
        )
    except OverflowError:
        return False


def _numpy_allowed(fn, name, args, kwargs, owner) -> bool:
    everything = (*args, *kwargs.values())
    if contains(everything, lambda v: isinstance(v, Variable) or _unusable(v)):
        return True  # dispatched to astsym by __array_function__ / __array_ufunc__
    scalar_type = isinstance(fn, type) and issubclass(fn, (np.generic, np.dtype))
    if scalar_type or isinstance(fn, np.ufunc):
        return all(np.size(v) <= MAX_ELEMENTS for v in everything if isinstance(v, np.ndarray))
    if isinstance(fn, type):
        return False  # np.memmap and friends touch files
    if isinstance(owner, (np.ndarray, np.generic)):
        return name in _ARRAY_METHODS and owner.size <= MAX_ELEMENTS
    size = _constructor_size(name, args, kwargs)
    return size is not None and size <= MAX_ELEMENTS


# methods of a constant array that only make a value of at most its size
_ARRAY_METHODS = {
    "astype", "reshape", "transpose", "ravel", "flatten", "squeeze", "copy", "sum", "mean",
    "min", "max", "prod", "std", "var", "any", "all", "argmax", "argmin", "item", "swapaxes",
    "conj", "round", "clip", "cumsum", "dot",
}  # fmt: skip


def _unusable(value) -> bool:
    """A name with no value (assigned in one branch only): using it is the error."""
    return getattr(type(value), "fail_as_operand", None) is not None


def _big_int(value) -> bool:
    return isinstance(value, int) and abs(value) > MAX_ITEMS


def _dims(value) -> int | None:
    if value is None:
        return 1
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return max(int(value), 0)
    if isinstance(value, (tuple, list)) and all(isinstance(v, (int, np.integer)) for v in value):
        return math.prod(max(int(v), 0) for v in value)
    return None


def _constructor_size(name: str, args, kwargs) -> int | None:
    """An upper bound on the elements a NumPy constructor would make; None if unknown."""
    if name in ("zeros", "ones", "empty", "full"):
        return _dims(kwargs.get("shape", args[0] if args else None))
    if name in ("array", "asarray", "asanyarray", "ascontiguousarray"):
        return (
            0
            if all(not isinstance(a, np.ndarray) or a.size <= MAX_ELEMENTS for a in args)
            else None
        )
    if name in ("zeros_like", "ones_like", "empty_like", "full_like"):
        first = args[0] if args else None
        return np.size(first) if isinstance(first, np.ndarray) else None
    if name == "eye":
        n = _dims(args[0] if args else kwargs.get("N"))
        m = _dims(args[1] if len(args) > 1 and args[1] is not None else kwargs.get("M"))
        return None if n is None else n * (m if m not in (None, 1) or "M" in kwargs else n)
    if name == "identity":
        n = _dims(args[0] if args else None)
        return None if n is None else n * n
    if name == "arange":
        return _arange_size(args)
    if name == "linspace":
        return _dims(args[2] if len(args) > 2 else kwargs.get("num", 50))
    if name in ("rand", "randn"):
        return math.prod(_dims(a) or 0 for a in args) if args else 1
    if name in ("default_rng", "seed", "RandomState", "dtype", "float32", "float64"):
        return 0
    if name in ("normal", "uniform", "standard_normal", "randint", "integers", "random",
                "random_sample", "choice", "permutation", "binomial", "poisson", "exponential"):  # fmt: skip
        size = kwargs.get("size")
        if size is None and name in ("standard_normal", "random", "random_sample"):
            size = args[0] if args else None
        elif size is None and len(args) >= 3:
            size = args[2]
        return _dims(size)
    return None


def _arange_size(args) -> int | None:
    if not args or not all(isinstance(a, (int, float, np.number)) for a in args):
        return None
    start, stop, step = (0, args[0], 1) if len(args) == 1 else (*args, 1)[:3]
    if step == 0:
        return 0
    return max(0, math.ceil((stop - start) / step))


def _safe_pow(base, exponent) -> bool:
    if isinstance(base, int) and isinstance(exponent, int):
        return abs(exponent) <= 10_000 and abs(base) <= 10**100
    return True


# -- Python operators on interpreter values --------------------------------------------------
def binary(op, a, b):
    """``op(a, b)`` for Python operators, refusing the ones that would build a huge value."""
    if is_unknown(a) or is_unknown(b):
        return UNKNOWN
    if op in (operator.pow, operator.ipow) and not _safe_pow(a, b):
        return UNKNOWN
    if op in (operator.lshift, operator.ilshift) and isinstance(b, int) and b > 10_000:
        return UNKNOWN
    if op in (operator.mul, operator.imul) and _repeats(a, b):
        return UNKNOWN
    return op(a, b)


def _repeats(a, b) -> bool:
    sequences = (str, bytes, list, tuple)
    for seq, n in ((a, b), (b, a)):
        if isinstance(seq, sequences) and isinstance(n, int) and len(seq) * n > MAX_ITEMS:
            return True
    return False


def is_module(value) -> bool:
    return isinstance(value, types.ModuleType)
