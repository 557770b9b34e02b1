"""The host double of CuPy is as strict as CuPy: no implicit conversion, views share memory,
results stay on the device, transfers and launches are counted."""

import copy
import gc
import operator
import shutil

import numpy as np
import pytest

from gpu_host import cupy_on_host as cp


@pytest.fixture(autouse=True)
def _fresh_counters():
    cp.TRANSFERS.reset()
    cp.LAUNCHES.reset()
    yield


def host_and_device(shape=(2, 3), dtype=np.float64):
    host = np.arange(1, np.prod(shape) + 1, dtype=dtype).reshape(shape)
    return host, cp.asarray(host)


def assert_device_equal(device, expected):
    assert type(device) is cp.ndarray
    got = device.get()
    assert got.dtype == np.asarray(expected).dtype
    np.testing.assert_array_equal(got, expected)


# -- refusals ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "convert",
    [np.asarray, np.array, lambda d: np.array([d, d]), lambda d: np.asarray(d, dtype=np.float32)],
)
def test_implicit_conversion_to_numpy_is_refused(convert):
    _, d = host_and_device()
    with pytest.raises(TypeError, match="Implicit conversion to a NumPy array is not allowed"):
        convert(d)


@pytest.mark.parametrize(
    "mix",
    [
        lambda d, h: d + h,
        lambda d, h: h + d,
        lambda d, h: d * h[0, 0:1],
        lambda d, h: np.add(d, h),
        lambda d, h: cp.exp(h),
        lambda d, h: cp.add(d, h),
        lambda d, h: np.concatenate([d, h]),
        lambda d, h: cp.where(d > 2, d, h),
        lambda d, h: operator.iadd(d, h),
        lambda d, h: d + np.ones(()),  # a 0-d NumPy array too
    ],
)
def test_numpy_arrays_are_refused_in_device_operations(mix):
    h, d = host_and_device()
    with pytest.raises(TypeError):
        mix(d, h)


def test_lists_are_refused_by_ufuncs():
    _, d = host_and_device()
    with pytest.raises(TypeError):
        d + [1.0, 2.0, 3.0]
    with pytest.raises(TypeError, match="Unsupported type"):
        cp.exp([1.0])


def test_comparison_with_a_zero_d_numpy_array_is_allowed():
    _, d = host_and_device()
    assert_device_equal(d > np.array(3.0), np.arange(1, 7).reshape(2, 3) > 3)


# -- views -----------------------------------------------------------------------------------


def test_a_slice_written_in_place_changes_its_base():
    h, d = host_and_device()
    row = d[1]
    row[1:] = 0.0
    row *= 10
    h[1] = [40.0, 0.0, 0.0]
    assert row.base is d and row[0].base is d
    assert_device_equal(d, h)


def test_an_integer_index_gives_a_zero_d_view():
    _, d = host_and_device()
    item = d[0, 2]
    assert item.shape == () and item.base is d
    item += 1
    assert float(d[0, 2]) == 4.0


@pytest.mark.parametrize(
    "make_view",
    [
        lambda d: d.T,
        lambda d: d.reshape(3, 2),
        lambda d: d.ravel(),
        lambda d: d.view(),
        lambda d: d[:, ::2],
        lambda d: d[None, ..., 1],
        lambda d: np.transpose(d),
        lambda d: cp.expand_dims(d, 0),
    ],
)
def test_views_share_memory_with_their_base(make_view):
    _, d = host_and_device()
    view = make_view(d)
    assert view.base is d and not view.flags.owndata
    view.fill(7.0)
    assert float(d.max()) == 7.0


def test_copies_do_not_share_memory():
    _, d = host_and_device()
    for c in (d.copy(), d.astype(np.float32), cp.array(d), copy.deepcopy(d), d.T.ravel()):
        assert c.base is None
        c.fill(0)
    assert float(d.min()) == 1.0


def test_astype_without_copy_returns_the_array_and_asarray_keeps_device_arrays():
    _, d = host_and_device()
    assert d.astype(np.float64, copy=False) is d
    assert cp.asarray(d) is d
    assert cp.ascontiguousarray(d) is d
    assert cp.asarray(d, dtype=np.float32).dtype == np.float32


# -- values and dtypes ---------------------------------------------------------------------------


BINARY = [
    operator.add,
    operator.sub,
    operator.mul,
    operator.truediv,
    operator.floordiv,
    operator.mod,
    operator.pow,
    operator.lt,
    operator.le,
    operator.eq,
    operator.ne,
    operator.gt,
    operator.ge,
]


@pytest.mark.parametrize("op", BINARY)
@pytest.mark.parametrize("other", [2, 1.5, np.float32(2.0), "device"])
def test_operators_match_numpy(op, other):
    h, d = host_and_device(dtype=np.float32)
    other_h, other_d = (h[::-1], d[::-1]) if other == "device" else (other, other)
    assert_device_equal(op(d, other_d), op(h, other_h))
    assert_device_equal(op(other_d, d), op(other_h, h))


@pytest.mark.parametrize(
    "op", [operator.iadd, operator.isub, operator.imul, operator.itruediv, operator.ipow]
)
def test_in_place_operators_write_the_array(op):
    h, d = host_and_device()
    same = d
    d = op(d, 2)
    assert d is same
    assert_device_equal(d, op(h, 2))


def test_integer_and_bitwise_operators():
    h, d = host_and_device(dtype=np.int32)
    for op in (operator.and_, operator.or_, operator.xor, operator.lshift, operator.rshift):
        assert_device_equal(op(d, 3), op(h, 3))
    assert_device_equal(~d, ~h)
    assert_device_equal(-d, -h)
    assert_device_equal(abs(-d), h)
    assert +d is d
    q, r = divmod(d, 4)
    assert_device_equal(q, h // 4)
    assert_device_equal(r, h % 4)
    assert_device_equal(d @ d.T, h @ h.T)


@pytest.mark.parametrize(
    "call",
    [
        lambda xp, a: xp.exp(a),
        lambda xp, a: xp.where(a > 2, a, 0.0),
        lambda xp, a: xp.concatenate([a, a], axis=1),
        lambda xp, a: xp.stack((a, a)),
        lambda xp, a: xp.maximum(a, 3),
        lambda xp, a: xp.add.reduce(a, axis=0),
        lambda xp, a: xp.matmul(a, a.T),
        lambda xp, a: xp.linalg.norm(a, axis=1),
        lambda xp, a: xp.sum(a, axis=1, keepdims=True),
        lambda xp, a: xp.cumsum(a),
        lambda xp, a: xp.clip(a, 2, 4),
    ],
)
@pytest.mark.parametrize("dtype", [np.float32, np.int64])
def test_numpy_calls_and_module_functions_stay_on_the_device(call, dtype):
    h, d = host_and_device(dtype=dtype)
    assert_device_equal(call(np, d), call(np, h))
    assert_device_equal(call(cp, d), call(np, h))


@pytest.mark.parametrize("name", ["sum", "prod", "mean", "max", "min", "argmax", "argmin", "all"])
def test_reductions_return_zero_d_device_arrays(name):
    h, d = host_and_device()
    full = getattr(d, name)()
    assert full.shape == ()
    assert_device_equal(full, np.asarray(getattr(h, name)()))
    assert_device_equal(
        getattr(d, name)(axis=1, keepdims=True), getattr(h, name)(axis=1, keepdims=True)
    )


def test_out_arguments_return_the_out_array():
    h, d = host_and_device()
    out = cp.empty((3,))
    assert d.sum(axis=0, out=out) is out
    assert np.add(d, 1, out=out[None].reshape(1, 3).repeat(2, 0)) is not out  # a copy: no alias
    target = cp.zeros((2, 3))
    assert np.multiply(d, 2, out=target) is target
    assert cp.multiply(d, 2, out=target) is target
    assert_device_equal(target, h * 2)
    with pytest.raises(TypeError):
        cp.multiply(d, 2, out=np.empty((2, 3)))


def test_dtype_arguments_and_names():
    _, d = host_and_device()
    assert d.sum(dtype=np.float32).dtype == np.float32
    assert d.argmax(axis=1, dtype=np.int32).dtype == np.int32
    assert cp.float32 is np.float32 and cp.dtype("int8") == np.int8
    assert cp.newaxis is None and cp.inf == np.inf and np.isnan(cp.nan)
    assert cp.zeros((2,), dtype=cp.int16).dtype == np.int16


# -- scalars, containers, setitem ------------------------------------------------------------------


def test_scalar_conversions_sync_and_count_a_transfer():
    _, d = host_and_device()
    one = d[0, 0]
    assert (float(one), int(one), bool(one), complex(one), one.item()) == (1.0, 1, True, 1, 1.0)
    assert cp.TRANSFERS.d2h == 5
    with pytest.raises(TypeError):
        operator.index(cp.asarray(2))  # CuPy's ndarray has no __index__
    with pytest.raises(ValueError):
        bool(d)
    with pytest.raises(ValueError):
        d.item()


def test_len_and_iteration():
    _, d = host_and_device()
    assert len(d) == 2
    rows = list(d)
    assert all(r.base is d and r.shape == (3,) for r in rows)
    zero_d = d.sum()
    with pytest.raises(TypeError, match="len"):
        len(zero_d)
    with pytest.raises(TypeError, match="0-d"):
        iter(zero_d)
    with pytest.raises(TypeError, match="unhashable"):
        hash(d)


def test_indexing_with_device_arrays_lists_and_numpy_arrays():
    h, d = host_and_device()
    assert_device_equal(d[cp.asarray([1, 0])], h[[1, 0]])
    assert_device_equal(d[d > 3], h[h > 3])
    cp.TRANSFERS.reset()
    assert_device_equal(d[:, np.array([2, 0])], h[:, [2, 0]])
    assert_device_equal(d[[1]], h[[1]])
    assert cp.TRANSFERS.h2d == 2  # CuPy copies a host index to the device


def test_setitem_takes_device_arrays_and_scalars_only():
    h, d = host_and_device()
    d[0] = cp.asarray([7.0, 8.0, 9.0])
    d[1, 1] = np.float32(5)
    d[1, 2] = np.array(6.0)
    d[d > 8] = 0
    h[0], h[1, 1], h[1, 2] = [7.0, 8.0, 0.0], 5.0, 6.0
    assert_device_equal(d, h)
    with pytest.raises(ValueError, match="non-scalar numpy.ndarray"):
        d[0] = np.zeros(3)
    with pytest.raises(TypeError, match="Unsupported type"):
        d[0] = [1.0, 2.0, 3.0]


def test_empty_memory_is_garbage():
    assert np.isnan(cp.empty((3,)).get()).all()
    assert (cp.empty_like(cp.zeros(2, dtype=np.int32)).get() == -1).all()
    assert np.isnan(cp.ndarray((2, 2), dtype=np.float32).get()).all()


def test_repr_and_properties():
    h, d = host_and_device(dtype=np.float32)
    assert repr(d) == repr(h) and str(d) == str(h)
    for name in ("shape", "ndim", "size", "itemsize", "nbytes", "strides", "dtype"):
        assert getattr(d, name) == getattr(h, name)
    assert d.T.flags.f_contiguous and not d.T.flags.c_contiguous and d.flags["C_CONTIGUOUS"]
    assert d.data.ptr == d[0].data.ptr and d.device.id == 0


# -- transfers and memory ---------------------------------------------------------------------------


def test_transfers_are_counted_both_ways():
    h, _ = host_and_device()
    cp.TRANSFERS.reset()
    d = cp.asarray(h)
    e = cp.array(h, dtype=np.float32)
    assert cp.asarray(h) is not d and (cp.TRANSFERS.h2d, cp.TRANSFERS.h2d_bytes) == (3, 48 * 2 + 24)
    f = d * 2 + e  # on the device: no transfer
    assert cp.TRANSFERS.d2h == 0
    assert_device_equal(f, h * 3)
    np.testing.assert_array_equal(cp.asnumpy(d), h)
    assert cp.asnumpy(h) is h
    assert cp.TRANSFERS.d2h == 2 and cp.TRANSFERS.total == 5
    cp.TRANSFERS.reset()
    assert cp.TRANSFERS.total == 0


def test_set_copies_host_data_in():
    h, d = host_and_device()
    cp.TRANSFERS.reset()
    d.set(h * 2)
    assert cp.TRANSFERS.h2d == 1
    with pytest.raises(TypeError):
        d.set(h.astype(np.float32))


def test_memory_pool_counts_live_device_arrays():
    pool = cp.get_default_memory_pool()
    gc.collect()
    pool.free_all_blocks()
    before = pool.used_bytes()
    d = cp.zeros(1000)
    view = d[10:]
    assert pool.used_bytes() == before + 8192  # 8000 bytes, rounded up to 512
    del d, view
    gc.collect()
    assert pool.used_bytes() == before and pool.free_bytes() == 8192
    pool.free_all_blocks()
    assert pool.total_bytes() == before


# -- kernels ---------------------------------------------------------------------------------


def _names(params):
    return [p.split()[-1] for p in params.split(",")]


class StandInElementwise:
    """Evaluates ``out = expression`` on NumPy arrays (the shape of host_cuda's kernels)."""

    def __init__(self, in_params, out_params, operation, name="kernel", **options):
        self.inputs, self.outputs = _names(in_params), _names(out_params)
        self.target, self.expression = (s.strip() for s in operation.split("="))

    def __call__(self, *args, size=None):
        env = dict(zip(self.inputs, args))
        value = eval(self.expression, {"np": np}, env)
        outs = args[len(self.inputs) :] or (np.empty(np.shape(value)),)
        outs[0][...] = value
        return outs[0]


class StandInReduction:
    def __init__(self, in_params, out_params, map_expr, reduce_expr, post_map, identity, **kw):
        self.name = kw.get("name")

    def __call__(self, x, axis=None, keepdims=False):
        return np.sum(x, axis=axis, keepdims=keepdims)


class StandInRaw:
    def __init__(self, code, name, options=(), backend="nvrtc"):
        self.name = name

    def __call__(self, grid, block, args):
        x, out, n = args
        out[:n] = x[:n] * 2


@pytest.fixture
def stand_ins(monkeypatch):
    monkeypatch.setattr(cp, "HOST_KERNELS", (StandInElementwise, StandInReduction, StandInRaw))


def test_elementwise_kernel_writes_the_device_outputs(stand_ins):
    h, d = host_and_device()
    kernel = cp.ElementwiseKernel("float64 x, float64 b", "float64 y", "y = x * 2 + b", "axpb")
    out = cp.empty_like(d)
    cp.TRANSFERS.reset()
    assert kernel(d, 1.0, out) is out
    fresh = kernel(d[0], d[1])
    assert type(fresh) is cp.ndarray and fresh.base is None
    assert cp.TRANSFERS.total == 0
    assert_device_equal(out, h * 2 + 1)
    assert_device_equal(fresh, h[0] * 2 + h[1])
    assert cp.LAUNCHES["ElementwiseKernel"] == 2 and cp.LAUNCHES.by_name["axpb"] == 2
    with pytest.raises(TypeError, match="Unsupported type"):
        kernel(h, 1.0)


def test_reduction_kernel(stand_ins):
    h, d = host_and_device()
    total = cp.ReductionKernel("T x", "T y", "x", "a + b", "y = a", "0", "total")
    assert_device_equal(total(d), np.asarray(h.sum()))
    out = cp.empty((3,))
    assert total(d, axis=0, out=out) is out
    assert_device_equal(out, h.sum(axis=0))
    assert_device_equal(total(d, axis=1, keepdims=True), h.sum(axis=1, keepdims=True))
    assert cp.LAUNCHES["ReductionKernel"] == 3


def test_raw_kernel_writes_into_its_array_arguments(stand_ins):
    h, d = host_and_device(shape=(5,))
    out = cp.zeros(5)
    kernel = cp.RawKernel("extern C __global__ void twice(...) {}", "twice")
    assert kernel((1,), (32,), (d, out, np.int32(3))) is None
    assert_device_equal(out, np.array([2.0, 4.0, 6.0, 0.0, 0.0]))
    with pytest.raises(TypeError):
        kernel((1,), (32,), [d, out, 3])
    with pytest.raises(TypeError, match="Unsupported type"):
        kernel((1,), (32,), (h, out, 3))
    assert cp.LAUNCHES == {"RawKernel": 1}


# -- random and cuda -------------------------------------------------------------------------------


def test_random_draws_are_device_arrays():
    g = cp.random.default_rng(0)
    draws = [
        g.standard_normal((2, 3), dtype=np.float32),
        g.random(4),
        g.integers(0, 5, size=3),
        cp.random.RandomState(1).normal(size=(2,), dtype=np.float32),
        cp.random.RandomState(1).randint(0, 3, size=4, dtype=np.int8),
        cp.random.rand(3),
    ]
    assert all(type(x) is cp.ndarray for x in draws)
    assert [x.dtype.name for x in draws[:1] + draws[3:5]] == ["float32", "float32", "int8"]
    np.testing.assert_array_equal(
        cp.random.default_rng(5).random(3).get(), np.random.default_rng(5).random(3)
    )
    assert cp.TRANSFERS.h2d == 0


def test_cuda_helpers():
    runtime = cp.cuda.runtime
    props = runtime.getDeviceProperties(0)
    assert runtime.getDeviceCount() == 1 and props["name"] == b"host emulation"
    assert {"totalGlobalMem", "memoryClockRate", "memoryBusWidth"} <= set(props)
    with pytest.raises(runtime.CUDARuntimeError, match="cudaErrorInvalidDevice"):
        runtime.getDeviceProperties(1)
    device = cp.cuda.Device(0)
    device.synchronize()
    assert device.id == 0 and cp.cuda.get_device_id() == 0
    with cp.cuda.Device(0):
        cp.cuda.Stream.null.synchronize()
    start, end = cp.cuda.Event(), cp.cuda.Event()
    with pytest.raises(runtime.CUDARuntimeError):
        cp.cuda.get_elapsed_time(start, end)
    start.record()
    end.record()
    end.synchronize()
    assert 0.0 <= cp.cuda.get_elapsed_time(start, end) < 1000.0


def test_get_array_module():
    _, d = host_and_device()
    assert cp.get_array_module(1, d) is cp
    assert cp.get_array_module(np.ones(2), 1.0) is np


def test_module_examples():
    import doctest

    from gpu_host import _cuda, _device_array

    for module in (cp, _cuda, _device_array):
        assert doctest.testmod(module, optionflags=doctest.ELLIPSIS).failed == 0


@pytest.mark.skipif(shutil.which("g++") is None, reason="host_cuda compiles with g++")
def test_default_host_kernels_are_host_cudas():
    _, d = host_and_device(shape=(4,))
    out = cp.empty(4)
    axpy = cp.ElementwiseKernel("float64 x, float64 y", "float64 z", "z = x * 2 + y", "axpy")
    assert axpy(d, 1.0, out) is out
    assert_device_equal(out, np.array([3.0, 5.0, 7.0, 9.0]))
