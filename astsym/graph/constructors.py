"""Theano's variable constructors: ``scalar vector row col matrix tensor3 ... tensor7`` with
the dtype prefixes ``b w i l f d c z`` and plural forms.

    >>> x = dscalar("x")
    >>> x.type is dscalar        # prefixed constructors are types (Theano's behaviour)
    True
    >>> a, b = fscalars("a", "b")
"""

from __future__ import annotations

from .type import TensorType

PREFIXES = {
    "b": "int8",
    "w": "int16",
    "i": "int32",
    "l": "int64",
    "f": "float32",
    "d": "float64",
    "c": "complex64",
    "z": "complex128",
}
KINDS = {
    "scalar": (),
    "vector": (False,),
    "row": (True, False),
    "col": (False, True),
    "matrix": (False, False),
    "tensor3": (False,) * 3,
    "tensor4": (False,) * 4,
    "tensor5": (False,) * 5,
    "tensor6": (False,) * 6,
    "tensor7": (False,) * 7,
}
PLURALS = {
    "scalar": "scalars",
    "vector": "vectors",
    "row": "rows",
    "col": "cols",
    "matrix": "matrices",
    "tensor3": "tensor3s",
    "tensor4": "tensor4s",
    "tensor5": "tensor5s",
    "tensor6": "tensor6s",
    "tensor7": "tensor7s",
}


def tensor(dtype=None, broadcastable=None, name=None, shape=None):
    """A variable of any rank: ``tensor('float32', (False, True), 'x')`` (Theano) or
    ``tensor(dtype='float32', shape=(None, 1), name='x')``."""
    if shape is None and broadcastable is None:
        raise TypeError("tensor() needs broadcastable= or shape=")
    return TensorType(dtype or "floatX", broadcastable, shape=shape)(name)


def _generic(kind: str):
    pattern = KINDS[kind]

    def make(name=None, dtype=None):
        return TensorType(dtype or "floatX", pattern)(name)

    make.__name__ = kind
    make.__doc__ = f"A {kind} variable of ``dtype`` (default ``config.floatX``)."
    return make


def _plural(make_one):
    def make(*names, dtype=None):
        if len(names) == 1 and isinstance(names[0], int):
            names = (None,) * names[0]
        out = [make_one(n, dtype=dtype) if dtype is not None else make_one(n) for n in names]
        return out[0] if len(out) == 1 else out

    return make


def _typed_plural(var_type: TensorType):
    def make(*names):
        if len(names) == 1 and isinstance(names[0], int):
            names = (None,) * names[0]
        out = [var_type(n) for n in names]
        return out[0] if len(out) == 1 else out

    return make


def _build() -> dict:
    table = {"tensor": tensor}
    for kind, pattern in KINDS.items():
        table[kind] = _generic(kind)
        table[PLURALS[kind]] = _plural(table[kind])
        for prefix, dtype in PREFIXES.items():
            var_type = TensorType(dtype, pattern)
            table[prefix + kind] = var_type
            table[prefix + PLURALS[kind]] = _typed_plural(var_type)
    return table


CONSTRUCTORS = _build()
globals().update(CONSTRUCTORS)
__all__ = sorted(CONSTRUCTORS)
