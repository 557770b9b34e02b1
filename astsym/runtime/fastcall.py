"""The short call path of a function compiled whole on the ``cpu`` backend.

A Python function is written for each compiled ``Function``, with its inputs' checks
unrolled: each argument must already be exactly what the graph takes (a NumPy array of the
input's dtype and rank, fitting its static dims, or a NumPy scalar of the dtype for a 0-d
input). Then it calls the compiled graph, wraps 0-d results as arrays, commits the updates
and returns. Anything else (a list, another dtype, a keyword, a missing input, an error
raised by the compiled code) takes the full path, which converts, checks and reports at the
user's line. With ``trust_input=True`` the checks are left out.

    >>> import numpy as np, astsym, astsym.tensor as T
    >>> w, x, b = T.fscalars("w", "x", "b")
    >>> f = astsym.function([w, x, b], w * x + b)
    >>> f(np.float32(2), np.float32(3), np.float32(1))   # first call: the full path
    array(7., dtype=float32)
    >>> f(np.float32(2), np.float32(3), np.float32(1))   # then the short one
    array(7., dtype=float32)
"""

from __future__ import annotations

import numpy as np


def short_path(function):
    """The short call function of ``function`` (a ``Function`` whose program is compiled
    whole), or None when it has none."""
    program = function.program
    if getattr(program, "compiled", None) is None or program.rendered is None:
        return None
    inputs = [s.variable for s in function.spec.inputs]
    n_in, n_shared = len(inputs), len(function.shared)
    names = [f"a{i}" for i in range(n_in)]
    env = {
        "np": np,
        "slow": function._slow_call,
        "asarray": np.asarray,
        "unaliased": unaliased,
        "ndarray": np.ndarray,
        "graph": program.compiled,
        "consts": tuple(program.rendered.constants),
    }
    checks = []
    for i, var in enumerate(inputs):
        env[f"D{i}"] = var.type.numpy_dtype
        if var.ndim == 0:
            env[f"S{i}"] = var.type.numpy_dtype.type
            checks.append(f"type(a{i}) is S{i}")
            continue
        check = f"type(a{i}) is ndarray and a{i}.dtype is D{i} and a{i}.ndim == {var.ndim}"
        for axis, size in enumerate(var.type.shape):
            if isinstance(size, int):
                check += f" and a{i}.shape[{axis}] == {size}"
        checks.append(check)
    shared = []
    for k, var in enumerate(function.shared):
        env[f"C{k}"] = var.container
        shared.append(f"s{k}")
    given = names + shared
    lines = [f"def call({', '.join(names)}):"]
    guard = " and ".join(checks) if checks and not function.trust_input else "True"
    lines.append(f"    if not ({guard}):")
    lines.append(f"        return slow({', '.join(names)})")
    for k in range(n_shared):  # a 0-d shared value is passed as a scalar
        scalar = function.shared[k].ndim == 0
        lines.append(f"    s{k} = C{k}.value" + ("[()]" if scalar else ""))
    lines.append("    try:")
    lines.append(f"        r = graph({', '.join(given + ['*consts'])})")
    lines.append("    except Exception:")
    lines.append(f"        return slow({', '.join(names)})")
    outs = []
    n_out = len(function._out_slots)
    for j, out_type in enumerate(program.out_types):
        env[f"O{j}"] = out_type.numpy_dtype
        if out_type.ndim == 0:
            lines.append(f"    o{j} = asarray(r[{j}], O{j})")
        else:
            earlier = ", ".join(given + ["*consts"] + [f"o{m}" for m in range(j)])
            lines.append(f"    o{j} = unaliased(r[{j}], ({earlier},))")
        outs.append(f"o{j}")
    for k, var in enumerate(function.updated):
        env[f"U{k}"] = var.container
        lines.append(f"    U{k}.value = {outs[n_out + k]}")
    kind = function.spec.output_kind
    if kind == "single":
        lines.append("    return o0")
    elif kind == "dict":
        env["KEYS"] = tuple(function.spec.output_keys)
        lines.append(f"    return dict(zip(KEYS, ({', '.join(outs[:n_out])},)))")
    else:
        lines.append(f"    return [{', '.join(outs[:n_out])}]")
    exec(compile("\n".join(lines) + "\n", "<astsym call>", "exec"), env)  # noqa: S102
    return env["call"]


def unaliased(value, given):
    """``value``, copied when it shares memory with an input, a shared value or an earlier
    result, or is read-only, so callers never see (or change) storage they do not own."""
    if not isinstance(value, np.ndarray):
        return value
    if not value.flags.writeable:
        return value.copy()
    for other in given:
        if isinstance(other, np.ndarray) and np.may_share_memory(value, other):
            return value.copy()
    return value
