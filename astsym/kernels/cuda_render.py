"""Rendering graph nodes as the CUDA C++ arguments of CuPy's kernel classes.

Each op's scalar template is inlined into a ``__device__`` function of the kernel's
preamble (after the scalar vocabulary of ``cuda_scalar``); the kernel body only calls it:

    >>> import astsym.tensor as T
    >>> x, y = T.fvector("x"), T.lvector("y")
    >>> src = elementwise_source((x + y).owner, "astsym_f_1")
    >>> src.in_params, src.out_params, src.operation
    ('float32 in0, int64 in1', 'float64 out0', 'out0 = astsym_f_1_value(in0, in1);')

Every step computes as NumPy's own loop for its operands does: the operands are converted
to the dtypes of the loop NumPy picks (``ufunc.resolve_dtypes``; a non-ufunc reference
computes in its output dtype, with a ``select`` condition as bool), the template is
evaluated on them and the result converted to the step's dtype. Integer ``+ - *`` are
evaluated in a wide unsigned type, so they wrap as NumPy's do (C's signed overflow is
undefined). Conversions are C's: float to bool is ``x != 0`` (NaN is true); float to int
truncates, and a NaN or out-of-range float gives what the device gives (CUDA saturates and
maps NaN to 0; NumPy on x86 gives the most negative value), which nothing here tests.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from astsym.graph.ops.elemwise import Elemwise
from astsym.graph.ops.fused import FusedElemwise, FusedReduce, FusedSoftmax
from astsym.graph.ops.reduce import Reduce

from .cuda_scalar import MIXED_COMPARISONS, NAMES, VOCABULARY, Unsupported, c_type, wrap_type


@dataclass(frozen=True)
class ElementwiseSource:
    """``cupy.ElementwiseKernel(in_params, out_params, operation, name, preamble=preamble)``,
    called as ``kernel(in0, in1, ...)`` with arrays of exactly the declared dtypes (a NumPy
    scalar is converted; at least one operand must be an array, 0-d ones included)."""

    in_params: str
    out_params: str
    operation: str
    name: str
    preamble: str


@dataclass(frozen=True)
class ReductionSource:
    """``cupy.ReductionKernel(in_params, out_params, map_expr, reduce_expr, post_map_expr,
    identity, name, reduce_type=reduce_type, preamble=preamble)``, called as
    ``kernel(*inputs, axis=axes, keepdims=keepdims)``. ``identity`` None: the reduction has
    none (max, min): CuPy refuses an empty one, as NumPy does."""

    in_params: str
    out_params: str
    map_expr: str
    reduce_expr: str
    post_map_expr: str
    identity: str | None
    name: str
    reduce_type: str
    preamble: str


@dataclass(frozen=True)
class RawSource:
    """``cupy.RawKernel(code, name)`` of a row softmax, launched as
    ``kernel((blocks,), (threads,), (in0, ..., out0, n_rows, row_len))``: any ``blocks``
    >= 1 (a grid-stride loop over rows, one thread per row, no shared memory). ``inK``: a
    C-contiguous array of input K's dtype of shape ``softmax_input_shape(node, K,
    out_shape)`` (the input broadcast only where the kernel does not broadcast it itself);
    ``out0``: C-contiguous, of the output's shape and dtype; ``n_rows`` (the product of all
    but the last dim) and ``row_len`` (the last dim) as ``numpy.int64``."""

    code: str
    name: str
    threads: int


_TOKEN = re.compile(
    r"\s*(?:\{(?P<ref>\d+)\}|(?P<num>\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)|(?P<name>[A-Za-z_]\w*)"
    r"|(?P<op><=|>=|==|!=|&&|\|\||[-+*/<>!(),%&|^~?:]))"
)
_ARITHMETIC = set("+-*()")  # templates of these only wrap as unsigned on integers


def kernel_name(name: str) -> str:
    """``name`` as a C identifier: other characters become ``_``.

    >>> kernel_name("astsym train-3")
    'astsym_train_3'
    """
    ident = re.sub(r"[^A-Za-z0-9_]", "_", name)
    return ident if re.match(r"[A-Za-z_]", ident) else "k_" + ident


# -- templates -------------------------------------------------------------------------
def _tokens(template: str) -> list[tuple[str, str]]:
    tokens, pos = [], 0
    template = template.rstrip()
    while pos < len(template):
        match = _TOKEN.match(template, pos)
        if match is None:
            raise Unsupported(f"cannot read template {template!r} at {template[pos:]!r}")
        tokens.append(next((k, v) for k, v in match.groupdict().items() if v is not None))
        pos = match.end()
    return tokens


def _parse(tokens, i: int = 0, close: bool = False):
    """Tokens as a list of tokens, ``("call", name, [args])`` and ``("group", items)``,
    up to the matching ``)`` or ``,``; returns (items, next index)."""
    items = []
    while i < len(tokens):
        kind, text = tokens[i]
        if close and text in (")", ","):
            return items, i
        if kind == "name" and i + 1 < len(tokens) and tokens[i + 1][1] == "(":
            args, i = [], i + 2
            while True:
                arg, i = _parse(tokens, i, close=True)
                args.append(arg)
                i += 1
                if tokens[i - 1][1] == ")":
                    break
            items.append(("call", text, args))
            continue
        if text == "(":
            inner, i = _parse(tokens, i + 1, close=True)
            items.append(("group", inner))
            i += 1
            continue
        items.append((kind, text))
        i += 1
    return items, i


@dataclass
class _Context:
    operands: list[str]  # C expressions of the operands, already converted
    value: str  # the C type literals and call arguments are converted to


def _emit(items, ctx: _Context) -> str:
    out = []
    for item in items:
        kind = item[0]
        if kind == "ref":
            out.append(ctx.operands[int(item[1])])
        elif kind == "num":
            out.append(f"(({ctx.value}){item[1]})")
        elif kind == "group":
            out.append("(" + _emit(item[1], ctx) + ")")
        elif kind == "call":
            out.append(_emit_call(item[1], item[2], ctx))
        else:
            out.append(f" {item[1]} " if kind == "op" else item[1])
    return "".join(out).strip()


def _emit_call(name: str, args, ctx: _Context) -> str:
    if name not in NAMES:
        raise Unsupported(f"the CUDA vocabulary has no {name!r}")
    casts = ["bool" if name == "select" and k == 0 else ctx.value for k in range(len(args))]
    rendered = ", ".join(f"({t})({_emit(a, ctx)})" for t, a in zip(casts, args))
    return f"as_{name}({rendered})"


def _conditions(template: str) -> set[int]:
    """The operands used as a ``select`` condition (they stay bool)."""
    return {int(m) for m in re.findall(r"select\(\s*\{(\d+)\}\s*,", template)}


def render_template(template: str, operands: list[tuple[str, str]], loop: list[str]) -> str:
    """The C expression of ``template`` on ``operands`` ((C expression, dtype) pairs)
    converted to the ``loop`` dtypes; its C type is not converted to the step's yet.

    >>> render_template("{0} + {1}", [("a0", "int8"), ("a1", "int16")], ["int16", "int16"])
    '(unsigned int)(short)a0 + (unsigned int)a1'
    """
    conds = _conditions(template)
    values = sorted({d for k, d in enumerate(loop) if k not in conds}) or ["bool"]
    tokens = _tokens(template)
    mixed = _mixed_comparison(tokens, values)
    exprs = [e if d == t else f"({c_type(t)}){e}" for (e, d), t in zip(operands, loop)]
    if mixed:
        return f"as_cmp_{mixed}({exprs[0]}, {exprs[1]})"
    value = np.result_type(*values).name
    c_value = c_type(value)
    if np.dtype(value).kind in "iu" and _arithmetic(tokens):
        c_value = wrap_type(value)  # wraps; converted back to the step's dtype after
        exprs = [f"({c_value}){e}" for e in exprs]
    return _emit(_parse(tokens)[0], _Context(exprs, c_value))


def _arithmetic(tokens) -> bool:
    """Only operands, literals, ``+ - *`` and parentheses: wraps when done unsigned."""
    return all(k in ("ref", "num") or (k == "op" and t in _ARITHMETIC) for k, t in tokens)


def _mixed_comparison(tokens, values: list[str]) -> str | None:
    """``lt``... for ``{0} < {1}`` between int64 and uint64, which C would get wrong."""
    if sorted(values) != ["int64", "uint64"]:
        return None
    shape = [k if k != "op" else t for k, t in tokens]
    if len(shape) == 3 and shape[0] == shape[2] == "ref" and shape[1] in MIXED_COMPARISONS:
        return MIXED_COMPARISONS[shape[1]]
    raise Unsupported("int64 with uint64 outside a comparison")


def loop_dtypes(op, dtypes: list[str], out: str) -> list[str]:
    """The dtypes NumPy converts ``op``'s operands to: its ufunc's loop; for any other
    reference, the output dtype (a ``select`` condition: bool)."""
    impl = op.impl
    if isinstance(impl, np.ufunc) and impl.nin == len(dtypes):
        try:
            resolved = impl.resolve_dtypes(tuple(np.dtype(d) for d in dtypes) + (None,) * impl.nout)
        except (TypeError, ValueError) as err:
            raise Unsupported(f"{op.name} of {', '.join(dtypes)}: {err}") from None
        return [d.name for d in resolved[: len(dtypes)]]
    conds = _conditions(op.template or "")
    return ["bool" if k in conds else out for k in range(len(dtypes))]


# -- the value of a group of steps -----------------------------------------------------
def _program(node):
    """(steps, input dtypes, value dtype) of a fused node or a single elementwise node."""
    op, ins = node.op, [v.dtype for v in node.inputs]
    if isinstance(op, FusedElemwise | FusedReduce | FusedSoftmax):
        steps = op.steps
    elif isinstance(op, Elemwise):
        steps = ((op, tuple(-1 - i for i in range(len(ins))), node.outputs[0].dtype),)
    elif isinstance(op, Reduce):
        steps = ()
    else:
        raise Unsupported(f"no CUDA form for {op}")
    value = steps[-1][2] if steps else ins[0]
    return steps, ins, value


def _step_line(k: int, step, ins: list[str], steps) -> str:
    op, refs, dtype = step
    if op.template is None:
        raise Unsupported(f"{op.name} has no scalar template")
    operands = [(f"a{-1 - r}", ins[-1 - r]) if r < 0 else (f"t{r}", steps[r][2]) for r in refs]
    loop = loop_dtypes(op, [d for _, d in operands], dtype)
    expr = render_template(op.template, operands, loop)
    t = c_type(dtype)
    return f"  const {t} t{k} = ({t})({expr});"


def value_function(fname: str, steps, ins: list[str], value: str) -> str:
    """``__device__ inline T fname(a0, a1, ...)``: the steps' value at one element."""
    params = ", ".join(f"const {c_type(d)} a{i}" for i, d in enumerate(ins))
    body = [_step_line(k, s, ins, steps) for k, s in enumerate(steps)]
    result = f"t{len(steps) - 1}" if steps else f"({c_type(value)})a0"
    return "\n".join(
        [f"__device__ inline {c_type(value)} {fname}({params}) {{", *body, f"  return {result};}}"]
    )


def _params(dtypes: list[str], prefix: str) -> str:
    return ", ".join(f"{np.dtype(d).name} {prefix}{i}" for i, d in enumerate(dtypes))


def _args(n: int) -> str:
    return ", ".join(f"in{i}" for i in range(n))


def elementwise_source(node, name: str) -> ElementwiseSource:
    """The ElementwiseKernel of an elementwise node (``FusedElemwise``, any ``Elemwise``
    including ``Cast``): inputs ``in0...``, output ``out0``."""
    name = kernel_name(name)
    steps, ins, value = _program(node)
    out = node.outputs[0].dtype
    c_type(out)
    fn = value_function(f"{name}_value", steps, ins, value)
    return ElementwiseSource(
        _params(ins, "in"),
        _params([out], "out"),
        f"out0 = ({c_type(out)}){name}_value({_args(len(ins))});"
        if out != value
        else f"out0 = {name}_value({_args(len(ins))});",
        name,
        VOCABULARY + fn + "\n",
    )


# -- reductions ------------------------------------------------------------------------
def reduction_source(node, name: str) -> ReductionSource:
    """The ReductionKernel of a ``FusedReduce`` (steps may be empty) or a ``Reduce``. The
    elements are converted to the output dtype, then reduced (float32 sums and products
    accumulate in float64)."""
    name = kernel_name(name)
    op = node.op
    reduce = op if isinstance(op, Reduce) else getattr(op, "reduce", None)
    if reduce is None:
        raise Unsupported(f"no CUDA reduction for {op}")
    red = reduce.reduction
    if not red.combine:
        raise Unsupported(f"{red.name} has no combine template")
    steps, ins, value = _program(node)
    out = node.outputs[0].dtype
    acc = "float64" if out == "float32" and _arithmetic(_tokens(_combine(red))) else out
    o, a = c_type(out), c_type(acc)
    fn = value_function(f"{name}_value", steps, ins, value)
    combine = render_template(_combine(red), [("a", acc), ("b", acc)], [acc, acc])
    element = f"({a})({o}){name}_value({', '.join(f'a{i}' for i in range(len(ins)))})"
    params = ", ".join(f"const {c_type(d)} a{i}" for i, d in enumerate(ins))
    if red.identity is None:
        acc_t = f"{name}_acc"
        extra = [
            f"struct {acc_t} {{ {a} v; bool ok; }};  // ok false: no element yet",
            f"__device__ inline {acc_t} {name}_map({params}) {{",
            f"  {acc_t} r; r.v = {element}; r.ok = true; return r;}}",
            f"__device__ inline {acc_t} {name}_combine({acc_t} x, {acc_t} y) {{",
            "  if (!x.ok) return y; if (!y.ok) return x;",
            f"  const {a} a = x.v, b = y.v; {acc_t} r; r.v = ({a})({combine}); r.ok = true;"
            " return r;}",
        ]
        post, identity, reduce_type = f"out0 = ({o})(a.v)", None, acc_t
    else:
        extra = [
            f"__device__ inline {a} {name}_map({params}) {{ return {element}; }}",
            f"__device__ inline {a} {name}_combine(const {a} a, const {a} b) {{",
            f"  return ({a})({combine});}}",
        ]
        post, identity, reduce_type = f"out0 = ({o})(a)", red.identity, a
    return ReductionSource(
        _params(ins, "in"),
        _params([out], "out"),
        f"{name}_map({_args(len(ins))})",
        f"{name}_combine(a, b)",
        post,
        identity,
        name,
        reduce_type,
        VOCABULARY + fn + "\n" + "\n".join(extra) + "\n",
    )


def _combine(red) -> str:
    return red.combine.replace("{acc}", "{0}").replace("{x}", "{1}")


# -- softmax ---------------------------------------------------------------------------
SOFTMAX_THREADS = 128


def _broadcasts(var, ndim: int) -> tuple[bool, bool]:
    """(every leading dim broadcasts, the last dim broadcasts) for an input of ``var``'s
    static type in an output of ``ndim`` dims."""
    shape = (1,) * (ndim - var.ndim) + tuple(var.type.shape)
    return all(d == 1 for d in shape[:-1]), shape[-1] == 1


def softmax_input_shape(node, i: int, out_shape: tuple) -> tuple:
    """The shape input ``i`` is passed in (broadcast to it, then made C-contiguous): 1 where
    the kernel broadcasts it (all leading dims, or the last), else the output's dims.

    >>> import astsym.tensor as T
    >>> from astsym.graph.ops.fused import FusedSoftmax
    >>> node = FusedSoftmax((), 1)(T.row("b")).owner
    >>> softmax_input_shape(node, 0, (1, 5))
    (1, 5)
    """
    rows, cols = _broadcasts(node.inputs[i], len(out_shape))
    lead = (1,) * (len(out_shape) - 1) if rows else tuple(out_shape[:-1])
    return (*lead, 1 if cols else out_shape[-1])


def softmax_source(node, name: str) -> RawSource:
    """The RawKernel of a ``FusedSoftmax``: softmax over the last axis (see ``RawSource``
    for the arguments). Three passes over a row: max (NaN propagates), sum of ``exp(v -
    max)`` (in float64), and the quotients."""
    name = kernel_name(name)
    steps, ins, value = _program(node)
    out = node.outputs[0]
    if value not in ("float32", "float64") or out.ndim == 0:
        raise Unsupported(f"softmax of {value}[{out.ndim} dims]")
    t = c_type(value)
    fn = value_function(f"{name}_value", steps, ins, value)
    loads = []
    for i, var in enumerate(node.inputs):
        rows, cols = _broadcasts(var, out.ndim)
        row = "0" if rows else f"r * {'1' if cols else 'row_len'}"
        loads.append(f"in{i}[{row}{'' if cols else ' + c'}]")
    v = f"{name}_value({', '.join(loads)})"
    params = [f"const {c_type(d)}* __restrict__ in{i}" for i, d in enumerate(ins)]
    params += [f"{c_type(out.dtype)}* __restrict__ out0", "long long n_rows", "long long row_len"]
    body = f"""
extern "C" __global__ void {name}({", ".join(params)}) {{
  const long long step = (long long)blockDim.x * gridDim.x;
  for (long long r = (long long)blockIdx.x * blockDim.x + threadIdx.x; r < n_rows; r += step) {{
    if (row_len == 0) continue;
    long long c = 0;
    {t} m = {v};
    for (c = 1; c < row_len; ++c) m = as_max(m, {v});
    double s = 0;
    for (c = 0; c < row_len; ++c) s += as_exp(({t})({v} - m));
    for (c = 0; c < row_len; ++c) out0[r * row_len + c] = as_exp(({t})({v} - m)) / ({t})s;
  }}
}}
"""
    return RawSource(VOCABULARY + fn + "\n" + body, name, SOFTMAX_THREADS)


__all__ = [
    "ElementwiseSource",
    "RawSource",
    "ReductionSource",
    "Unsupported",
    "elementwise_source",
    "kernel_name",
    "loop_dtypes",
    "reduction_source",
    "render_template",
    "softmax_input_shape",
    "softmax_source",
]
