"""Random sampling: one ``RandomVariable`` op, parameterized by distribution and dtype.

A node takes a generator state (``RandomType``), a size (an int64 vector) and the
distribution's parameters, and returns ``[new_rng, sample]``. ``perform`` draws from a copy
of the state, so the op is a pure function of its inputs; a function advances the stored
generator by updating the shared state with ``new_rng`` (its ``default_update``).

>>> import numpy as np
>>> from astsym.graph.shared import shared
>>> rng = shared(np.random.RandomState(1))
>>> new_rng, x = random_variable(rng, "normal", (2, 3), (0.0, 1.0))
>>> x.type
TensorType(float64, shape=(2, 3))
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from astsym.config import config
from astsym.typecheck import GraphTypeError, RuleError, codes
from astsym.typecheck.diagnostics import error
from astsym.typecheck.dtypes import INTEGERS, as_dtype, promote
from astsym.typecheck.shapes import broadcast_shapes

from ..basic import Apply, Variable
from ..convert import as_tensor_variable, is_python_scalar
from ..op import NullGrad, Op
from ..source import current_span
from ..type import RandomType, TensorType
from .elemwise import cast
from .shape import as_shape_vector, specify_shape, static_value, vector_entries


@dataclass(frozen=True)
class Distribution:
    """A distribution: its NumPy sampler and how its parameters shape the samples.

    ``draw(rng, size, *params, **options)``: the sample, drawn from ``rng`` (advancing it).
    ``core``: per parameter, the trailing dims one draw consumes (the others broadcast
    against ``size``); None when the parameters do not broadcast at all (a sample has the
    shape ``size`` alone). ``added(params, shapes)``: the dims one draw adds after those.
    ``dtype``: the default dtype (or a function of the parameters giving it); None for
    floatX, upcast with float parameters.
    """

    draw: Callable
    params: tuple[str, ...]
    dtype: str | Callable | None
    core: tuple[int, ...] | None = (0, 0)
    optional: int = 0
    added: Callable | None = None


def _integers(rng, size, low, high):
    """[low, high): ``Generator.integers`` or ``RandomState.randint``."""
    draw = getattr(rng, "integers", None) or rng.randint
    return draw(low, high, size, dtype="int64")


def _choice(rng, size, a, p=None, replace=True):
    return rng.choice(a, size, replace, p)


def _permutation(rng, size, n):
    """One permutation of range(n) per entry of ``size``."""
    batch = size or ()
    out = np.empty(batch + (int(n),), dtype="int64")
    for index in np.ndindex(*batch):
        out[index] = rng.permutation(int(n))
    return out


def _multinomial(rng, size, n, pvals):
    """One draw per entry of ``size`` (or of the broadcast batch dims of n and pvals)."""
    pvals = np.asarray(pvals, dtype="float64")
    batch = size or np.broadcast_shapes(np.shape(n), pvals.shape[:-1])
    n = np.broadcast_to(n, batch)
    pvals = np.broadcast_to(pvals, batch + pvals.shape[-1:])
    out = np.empty(batch + pvals.shape[-1:], dtype="int64")
    for index in np.ndindex(*batch):
        out[index] = rng.multinomial(int(n[index]), pvals[index])
    return out


def _choice_dtype(params) -> str:
    """Elements of ``a`` keep its dtype; ``a`` an int means indices (int64)."""
    a = as_tensor_variable(params[0])
    return a.dtype if a.ndim else "int64"


def _permutation_dims(params, shapes):
    return (params[0],)


def _multinomial_dims(params, shapes):
    return (shapes[1][-1],)


DISTRIBUTIONS = {
    "uniform": Distribution(
        lambda rng, size, low, high: rng.uniform(low, high, size), ("low", "high"), None
    ),
    "normal": Distribution(
        lambda rng, size, avg, std: rng.normal(avg, std, size), ("avg", "std"), None
    ),
    "binomial": Distribution(lambda rng, size, n, p: rng.binomial(n, p, size), ("n", "p"), "int64"),
    "poisson": Distribution(lambda rng, size, lam: rng.poisson(lam, size), ("lam",), "int64", (0,)),
    "integers": Distribution(_integers, ("low", "high"), "int64"),
    "random_integers": Distribution(
        lambda rng, size, low, high: _integers(rng, size, low, np.add(high, 1)),
        ("low", "high"),
        "int64",
    ),
    "choice": Distribution(_choice, ("a", "p"), _choice_dtype, None, optional=1),
    "permutation": Distribution(_permutation, ("n",), "int64", None, added=_permutation_dims),
    "multinomial": Distribution(
        _multinomial, ("n", "pvals"), "int64", (0, 1), added=_multinomial_dims
    ),
}


class RandomVariable(Op):
    """Draw from ``dist``: inputs (rng, size, *params), outputs (new_rng, sample).

    An empty ``size`` means one draw per element of the parameters' broadcast shape
    (NumPy's ``size=None``). ``options`` are static keywords (``replace`` for choice).
    """

    props = ("dist", "dtype", "options")
    stateful = True  # constant folding must never run a draw at compile time
    no_grad_reason = "random sampling"

    def __init__(self, dist: str, dtype: str, options: tuple = ()) -> None:
        if dist not in DISTRIBUTIONS:
            raise ValueError(f"unknown distribution {dist!r}; known: {', '.join(DISTRIBUTIONS)}")
        self.dist, self.dtype, self.options = dist, as_dtype(dtype), tuple(sorted(options))

    @property
    def name(self) -> str:
        return self.dist

    def make_node(self, rng, size, *params):
        if not isinstance(rng, Variable) or not isinstance(rng.type, RandomType):
            raise RuleError(codes.BAD_ARGUMENT, f"the first input must be a generator, got {rng}")
        spec = DISTRIBUTIONS[self.dist]
        if not len(spec.params) - spec.optional <= len(params) <= len(spec.params):
            names = ", ".join(spec.params)
            raise RuleError(codes.BAD_ARGUMENT, f"takes parameters ({names}), got {len(params)}")
        size = as_shape_vector(size)
        params = [as_tensor_variable(p) for p in params]
        shape = _batch_shape(spec, vector_entries(size), params) + _added(spec, params)
        return Apply(
            self, [rng, size, *params], [RandomType(), TensorType(self.dtype, shape=shape)]
        )

    def perform(self, node, inputs):
        rng, size, *params = inputs
        rng = copy.deepcopy(rng)  # the input state stays as it was: the op is pure
        shape = tuple(int(d) for d in size) or None
        sample = DISTRIBUTIONS[self.dist].draw(rng, shape, *params, **dict(self.options))
        return [rng, np.asarray(sample).astype(self.dtype, copy=False)]

    def grad(self, node, output_grads):
        # the rng and the size are not differentiable; the parameters' gradient is undefined
        return [None, None] + [NullGrad(self.no_grad_reason)] * (len(node.inputs) - 2)

    def infer_shape(self, node, input_shapes):
        _, size, *params = node.inputs
        spec = DISTRIBUTIONS[self.dist]
        if size.type.shape[0]:
            batch = tuple(size[i] for i in range(size.type.shape[0]))
        elif spec.core is None:
            batch = ()
        else:
            batch = _broadcast_dims(params, input_shapes[2:], spec.core)
        added = spec.added(params, input_shapes[2:]) if spec.added else ()
        static = node.outputs[1].type.shape
        dims = [
            d if isinstance(d, int) else cast(s, "int64") for d, s in zip(static, batch + added)
        ]
        return [(), tuple(dims)]

    def __str__(self) -> str:
        options = "".join(f", {k}={v!r}" for k, v in self.options)
        return f"RandomVariable{{{self.dist}, {self.dtype}{options}}}"

    __repr__ = __str__


def _batch_shape(spec: Distribution, entries, params) -> tuple:
    """The static dims of the sample before the ones a draw adds."""
    if entries is None:
        raise RuleError(
            codes.BAD_ARGUMENT,
            "a symbolic size of unknown length needs ndim=",
            ("pass ndim=len(size)",),
        )
    if spec.core is None:
        return tuple(entries)
    shapes = [_batch_part(p.type.shape, k, p) for p, k in zip(params, spec.core)]
    if not entries:
        return broadcast_shapes(shapes, [p.dtype for p in params])
    merged = broadcast_shapes([tuple(entries)] + shapes, ["size"] + [p.dtype for p in params])
    if len(merged) != len(entries) or any(
        isinstance(e, int) and e != m for e, m in zip(entries, merged)
    ):
        shown = ", ".join(p.type.short() for p in params)
        raise RuleError(codes.SHAPE, f"parameters {shown} do not fit size {tuple(entries)}")
    return merged


def _batch_part(shape, core: int, param):
    if len(shape) < core:
        raise RuleError(
            codes.RANK, f"parameter {param} needs rank >= {core}, got rank {len(shape)}"
        )
    return tuple(shape[: len(shape) - core])


def _added(spec: Distribution, params) -> tuple:
    if spec.added is None:
        return ()
    dims = spec.added(params, [p.type.shape for p in params])
    return tuple(static_value(d) if isinstance(d, Variable) else d for d in dims)


def _broadcast_dims(params, shapes, core) -> tuple:
    """Symbolic broadcast shape of the parameters' batch dims (for ``infer_shape``)."""
    batches = [(p, tuple(s[: len(s) - k])) for p, s, k in zip(params, shapes, core)]
    ndim = max((len(b) for _, b in batches), default=0)
    dims = []
    for axis in range(ndim):
        dim = 1
        for p, batch in batches:
            offset = axis - (ndim - len(batch))
            if offset >= 0 and p.type.shape[offset] != 1:
                dim = batch[offset]
                break
        dims.append(dim)
    return tuple(dims)


def default_dtype(dist: str, params) -> str:
    """floatX upcast with the float parameters (Python numbers weak), or the dist's own."""
    fixed = DISTRIBUTIONS[dist].dtype
    if callable(fixed):
        return fixed(params)
    if fixed is not None:
        return fixed
    weak = tuple(p for p in params if is_python_scalar(p))
    strong = [as_tensor_variable(p).dtype for p in params if not is_python_scalar(p)]
    return promote(config.floatX, *strong, weak=weak)


def random_variable(rng, dist: str, size, params, ndim=None, dtype=None, **options):
    """Build a draw of ``dist`` from the generator variable ``rng``: ``(new_rng, sample)``.

    ``size``: None or ``()`` for the parameters' broadcast shape, else a tuple/list of ints
    and int scalars, or an int vector (with ``ndim`` when its length is not static).

    >>> import astsym.tensor as T
    >>> from astsym.graph.shared import shared
    >>> rng = shared(np.random.RandomState(0))
    >>> n = T.lscalar("n")
    >>> random_variable(rng, "uniform", (n, 2), (0.0, 1.0))[1].type
    TensorType(float64, shape=(None, 2))
    """
    params = [p for p in params if p is not None]
    dtype = default_dtype(dist, params) if dtype is None else dtype
    try:
        size = _size_vector(size, ndim)
    except RuleError as err:
        diag = error(err.code, f"{dist}: {err.message}", current_span(), err.notes)
        raise GraphTypeError(diag) from None
    node = RandomVariable(dist, dtype, tuple(options.items())).apply(rng, size, *params)
    return node.outputs[0], node.outputs[1]


def _size_vector(size, ndim):
    if size is None:
        size = ()
    if isinstance(size, (int, float, np.number)) or (isinstance(size, Variable) and size.ndim == 0):
        raise RuleError(
            codes.BAD_ARGUMENT,
            f"size must be a tuple, a list or an int vector, got {size!r}",
            ("write size=(n,) for n draws; parameters come after size (Theano's order)",),
        )
    vector = as_shape_vector(size)
    length = vector.type.shape[0]
    if ndim is not None and isinstance(length, int) and length and length != ndim:
        raise RuleError(codes.RANK, f"size has {length} entries but ndim={ndim}")
    if not isinstance(length, int) and ndim is not None:
        vector = specify_shape(vector, (ndim,))
    if vector.dtype not in INTEGERS:
        raise RuleError(codes.BAD_ARGUMENT, "size entries must be integers")
    return vector
