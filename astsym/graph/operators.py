"""Python operators and NumPy-style methods on symbolic tensors.

``==`` and ``!=`` keep Python's identity meaning (as Theano), so variables work as dict keys;
use ``T.eq`` / ``T.neq`` for elementwise equality. NumPy functions applied to variables
(``np.exp(x)``, ``np.float64(2) * x``) build graph nodes through ``__array_ufunc__``.
"""

from __future__ import annotations


def _ops():
    from . import ops

    return ops


class TensorOperators:
    """Mixed into ``Variable``; every method builds graph nodes."""

    __array_priority__ = 1000

    # -- arithmetic ----------------------------------------------------------------------
    def __add__(self, other):
        return _ops().add(self, other)

    def __radd__(self, other):
        return _ops().add(other, self)

    def __sub__(self, other):
        return _ops().subtract(self, other)

    def __rsub__(self, other):
        return _ops().subtract(other, self)

    def __mul__(self, other):
        return _ops().multiply(self, other)

    def __rmul__(self, other):
        return _ops().multiply(other, self)

    def __truediv__(self, other):
        return _ops().true_divide(self, other)

    def __rtruediv__(self, other):
        return _ops().true_divide(other, self)

    def __floordiv__(self, other):
        return _ops().floor_divide(self, other)

    def __rfloordiv__(self, other):
        return _ops().floor_divide(other, self)

    def __mod__(self, other):
        return _ops().mod(self, other)

    def __rmod__(self, other):
        return _ops().mod(other, self)

    def __pow__(self, other):
        return _ops().power(self, other)

    def __rpow__(self, other):
        return _ops().power(other, self)

    def __matmul__(self, other):
        return _ops().matmul(self, other)

    def __rmatmul__(self, other):
        return _ops().matmul(other, self)

    def __neg__(self):
        return _ops().negative(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _ops().abs(self)

    # -- comparisons and logic -----------------------------------------------------------
    def __lt__(self, other):
        return _ops().less(self, other)

    def __le__(self, other):
        return _ops().less_equal(self, other)

    def __gt__(self, other):
        return _ops().greater(self, other)

    def __ge__(self, other):
        return _ops().greater_equal(self, other)

    def __and__(self, other):
        return _ops().bitwise_and(self, other)

    def __rand__(self, other):
        return _ops().bitwise_and(other, self)

    def __or__(self, other):
        return _ops().bitwise_or(self, other)

    def __ror__(self, other):
        return _ops().bitwise_or(other, self)

    def __xor__(self, other):
        return _ops().bitwise_xor(self, other)

    def __rxor__(self, other):
        return _ops().bitwise_xor(other, self)

    def __invert__(self):
        return _ops().invert(self)

    __hash__ = object.__hash__

    def __bool__(self):
        raise TypeError(
            f"the truth value of the symbolic variable {self} is not known until it runs; "
            "use ifelse/switch (or @symbolic, which converts `if`)"
        )

    def __iter__(self):
        dim = self.type.shape[0] if self.ndim else None
        if not isinstance(dim, int):
            raise TypeError(
                f"cannot iterate over {self.type.short()}: its leading dim is not a static "
                "size; use scan to loop over it"
            )
        return (self[i] for i in range(dim))

    def __len__(self):
        raise TypeError(f"len() of symbolic {self.type.short()} is not known; use x.shape[0]")

    def __getitem__(self, index):
        return _ops().getitem(self, index)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return _ops().apply_numpy_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        return _ops().apply_numpy_function(func, args, kwargs)

    # -- attributes ----------------------------------------------------------------------
    @property
    def shape(self):
        """The symbolic shape: an int64 vector (``x.shape[0]`` is a symbolic scalar)."""
        return _ops().shape(self)

    @property
    def size(self):
        return _ops().size(self)

    @property
    def T(self):
        return _ops().transpose(self)

    # -- methods -------------------------------------------------------------------------
    def sum(self, axis=None, dtype=None, keepdims=False, acc_dtype=None):
        return _ops().sum(self, axis=axis, dtype=dtype, keepdims=keepdims)

    def prod(self, axis=None, dtype=None, keepdims=False, acc_dtype=None):
        return _ops().prod(self, axis=axis, dtype=dtype, keepdims=keepdims)

    def mean(self, axis=None, dtype=None, keepdims=False, acc_dtype=None):
        return _ops().mean(self, axis=axis, dtype=dtype, keepdims=keepdims)

    def var(self, axis=None, ddof=0, keepdims=False, corrected=False):
        return _ops().var(self, axis=axis, ddof=ddof, keepdims=keepdims, corrected=corrected)

    def std(self, axis=None, ddof=0, keepdims=False, corrected=False):
        return _ops().std(self, axis=axis, ddof=ddof, keepdims=keepdims, corrected=corrected)

    def max(self, axis=None, keepdims=False):
        return _ops().max(self, axis=axis, keepdims=keepdims)

    def min(self, axis=None, keepdims=False):
        return _ops().min(self, axis=axis, keepdims=keepdims)

    def argmax(self, axis=None, keepdims=False):
        return _ops().argmax(self, axis=axis, keepdims=keepdims)

    def argmin(self, axis=None, keepdims=False):
        return _ops().argmin(self, axis=axis, keepdims=keepdims)

    def all(self, axis=None, keepdims=False):
        return _ops().all(self, axis=axis, keepdims=keepdims)

    def any(self, axis=None, keepdims=False):
        return _ops().any(self, axis=axis, keepdims=keepdims)

    def cumsum(self, axis=None):
        return _ops().cumsum(self, axis=axis)

    def cumprod(self, axis=None):
        return _ops().cumprod(self, axis=axis)

    def dot(self, other):
        return _ops().dot(self, other)

    def transpose(self, *axes):
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return _ops().transpose(self, axes or None)

    def dimshuffle(self, *pattern):
        if len(pattern) == 1 and isinstance(pattern[0], (tuple, list)):
            pattern = tuple(pattern[0])
        return _ops().dimshuffle(self, pattern)

    def reshape(self, *shape, ndim=None):
        if len(shape) == 1 and not isinstance(shape[0], int):
            shape = shape[0]
        return _ops().reshape(self, shape, ndim=ndim)

    def flatten(self, ndim=1):
        return _ops().flatten(self, ndim)

    def ravel(self):
        return _ops().flatten(self, 1)

    def squeeze(self, axis=None):
        return _ops().squeeze(self, axis)

    def swapaxes(self, axis1, axis2):
        return _ops().swapaxes(self, axis1, axis2)

    def repeat(self, repeats, axis=None):
        return _ops().repeat(self, repeats, axis)

    def astype(self, dtype):
        return _ops().cast(self, dtype)

    def clip(self, a_min, a_max):
        return _ops().clip(self, a_min, a_max)

    def round(self, mode="half_to_even"):
        return _ops().round(self, mode)

    def sort(self, axis=-1):
        return _ops().sort(self, axis)

    def argsort(self, axis=-1):
        return _ops().argsort(self, axis)

    def norm(self, L=2, axis=None, keepdims=False):
        return _ops().norm(self, L, axis, keepdims)

    def copy(self, name=None):
        out = _ops().tensor_copy(self)
        out.name = name
        return out
