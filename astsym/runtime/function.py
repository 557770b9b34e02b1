"""``function``: compile a graph into a callable.

    >>> import astsym.tensor as T
    >>> x, y = T.dscalars("x", "y")
    >>> f = function([x, y], x + y)
    >>> f(2, 3)
    array(5.)

Inputs are checked (rank, broadcastable dims, dtype, array-likeness) and refused with an
error naming the input. Updates of shared variables are applied after every output is
computed, all together, and only when the whole call succeeded.
"""

from __future__ import annotations

from astsym.config import config
from astsym.graph.basic import register_compiler
from astsym.graph.fg import FunctionGraph
from astsym.graph.printing import rewrites as rewrites_report
from astsym.graph.rewrite import RewriteLog
from astsym.graph.shared import SharedVariable
from astsym.graph.source import current_span
from astsym.graph.type import is_device_array
from astsym.graph.walk import graph_inputs
from astsym.typecheck import InputError, RuleError, codes
from astsym.typecheck.diagnostics import error

from .fastcall import short_path, unaliased
from .io import In
from .linker_py import PyProgram
from .mode import Mode, get_mode
from .optimize import optimize
from .spec import (
    FunctionSpec,
    check_givens,
    check_updates,
    normalize_inputs,
    normalize_outputs,
    normalize_pairs,
    resolve,
    spec_error,
)

_MISSING = object()


def function(
    inputs,
    outputs=None,
    mode=None,
    updates=None,
    givens=None,
    no_default_updates=False,
    accept_inplace=False,
    name=None,
    rebuild_strict=True,
    allow_input_downcast=None,
    profile=None,
    on_unused_input=None,
    trust_input=False,
    return_numpy=None,
) -> Function:
    """Compile ``outputs`` as a function of ``inputs`` (Theano's ``theano.function``).

    ``updates``: (shared variable, new value) pairs or a dict, applied after the call;
    ``givens``: (variable, replacement) pairs substituted in the graph before compiling;
    ``on_unused_input``: 'raise' (default), 'warn' or 'ignore';
    ``return_numpy``: on the ``gpu`` backend, return NumPy arrays (copied from the device)
    instead of CuPy arrays, which stay on the device for the next call to use (default:
    ``config.gpu_outputs``, ``'cupy'`` unless set). The other backends return NumPy arrays.
    """
    if on_unused_input not in (None, "raise", "warn", "ignore"):
        raise ValueError("on_unused_input must be 'raise', 'warn' or 'ignore'")
    outs, kind, keys = normalize_outputs(outputs)
    spec = FunctionSpec(
        inputs=normalize_inputs(inputs),
        outputs=outs,
        output_kind=kind,
        output_keys=keys,
        updates=check_updates(normalize_pairs(updates, "updates")),
        givens=check_givens(normalize_pairs(givens, "givens")),
        no_default_updates=no_default_updates,
        allow_input_downcast=allow_input_downcast,
        on_unused_input=on_unused_input or "raise",
        name=name,
    )
    if return_numpy is None:
        return_numpy = config.gpu_outputs == "numpy"
    return Function(spec, get_mode(mode), trust_input, return_numpy)


class Function:
    """A compiled function. Call it with values (positionally or by input name)."""

    def __init__(
        self, spec: FunctionSpec, mode: Mode, trust_input: bool = False, return_numpy=False
    ) -> None:
        self.spec, self.mode, self.trust_input = spec, mode, trust_input
        self.return_numpy = bool(return_numpy)
        self.name = spec.name
        self._compile()
        self._defaults = {
            i: self._filter(i, s.value) for i, s in enumerate(spec.inputs) if s.has_default
        }

    def _compile(self) -> None:
        spec = self.spec
        outputs, updates = resolve(spec)
        listed = [s.variable for s in spec.inputs]
        free = [
            v
            for v in graph_inputs(outputs + [e for _, e in updates], blockers=listed)
            if isinstance(v, SharedVariable) and not any(v is i for i in listed)
        ]
        self.shared = free + [s for s, _ in updates if not any(s is f for f in free)]
        fg = FunctionGraph(listed + self.shared, outputs + [e for _, e in updates])
        log = RewriteLog()
        self.fgraph = optimize(fg, self.mode, log)
        #: Which rewrite rule fired on which user line while compiling: ``Firing`` entries
        #: (rule, op, span, group); ``astsym.printing.rewrites(f)`` lists them by line.
        self.rewrites = log.entries
        if config.optimizer_verbose:
            print(rewrites_report(self, file="str"), end="")
        self.updated = [s for s, _ in updates]
        self._names = _input_names(spec.inputs)
        self._build_program()

    def _build_program(self) -> None:
        self._short, self._short_tried = None, False
        self._device = None
        if self.mode.linker == "cpu":
            from .linker_cpu import CpuProgram

            self.program = CpuProgram(self.fgraph)
        elif self.mode.linker == "gpu":
            from .linker_gpu import GpuProgram

            self.program = self._device = GpuProgram(self.fgraph, self.name)
        else:
            self.program = PyProgram(self.fgraph)
        n_out, n_in = len(self.spec.outputs), len(self.spec.inputs)
        self._out_slots = self.program.output_slots[:n_out]
        self._update_slots = self.program.output_slots[n_out:]
        self._shared_slots = list(range(n_in, n_in + len(self.shared)))

    @property
    def maker(self) -> Function:
        """Theano's ``f.maker``: here the function itself (``f.maker.fgraph`` works)."""
        return self

    @property
    def inputs(self) -> list[In]:
        return self.spec.inputs

    # -- calling -------------------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        short = self._short
        if short is not None and not kwargs:
            return short(*args)
        result = self._slow_call(*args, **kwargs)
        if not self._short_tried and getattr(self.program, "compiled", None) is not None:
            self._short_tried = True  # the graph was compiled whole: write the short path
            self._short = short_path(self)
        return result

    def _slow_call(self, *args, **kwargs):
        values = self._bind(args, kwargs)
        where = self._device or _ON_HOST  # how values reach the program and come back
        storage = self.program.new_storage()
        for i, value in enumerate(values):
            storage[i] = where.input_value(value)
        for slot, var in zip(self._shared_slots, self.shared):
            storage[slot] = where.shared_value(var)
        self.program.run(storage)
        given = storage[: len(values)] + [storage[s] for s in self._shared_slots]
        results = []  # an output merged with another output or an update is copied too
        for s in self._out_slots + self._update_slots:
            results.append(where.unaliased(s, storage[s], given + results))
        n_out = len(self._out_slots)
        outputs = [where.output_value(v, self.return_numpy) for v in results[:n_out]]
        new_values = [where.update_value(v) for v in results[n_out:]]
        for var, value in zip(self.updated, new_values):  # every output is computed: commit
            var.container.value = value
        return self._package(outputs)

    def _bind(self, args, kwargs) -> list:
        specs = self.spec.inputs
        if len(args) > len(specs):
            count = f"{len(specs)} input" + ("" if len(specs) == 1 else "s")
            raise self._input_error(None, f"takes {count}, got {len(args)}")
        values = list(args) + [_MISSING] * (len(specs) - len(args))
        for key, value in kwargs.items():
            if key not in self._names:
                raise self._input_error(None, f"got an unexpected keyword input {key!r}")
            i = self._names[key]
            if values[i] is not _MISSING:
                raise self._input_error(i, "was given twice (by position and by name)")
            values[i] = value
        for i, value in enumerate(values):
            if value is _MISSING:
                if i not in self._defaults:
                    raise self._input_error(i, "is missing")
                values[i] = self._defaults[i]
            if not self.trust_input:
                values[i] = self._filter(i, values[i])
        return values

    def _filter(self, i: int, value):
        if self._device is None and is_device_array(value):
            value = value.get()  # a CuPy array given to a cpu function: copied to the host
        spec = self.spec.inputs[i]
        downcast = spec.allow_downcast
        if downcast is None:
            downcast = self.spec.allow_input_downcast
        try:
            return spec.variable.type.filter(value, allow_downcast=downcast)
        except RuleError as err:
            raise self._input_error(i, err.message, err.code, err.notes) from None

    def _input_error(self, i, message, code=codes.BAD_INPUT, notes=()) -> InputError:
        fname = f"function {self.name!r}" if self.name else "function"
        if i is None:
            text = f"{fname} {message}"
        else:
            var = self.spec.inputs[i].variable
            label = f"input {i}" + (f" {var.name!r}" if var.name else "")
            text = (
                f"{label} of {fname} {message}"
                if message.startswith(("is ", "was "))
                else (f"{label} of {fname}: {message}")
            )
        return InputError(error(code, text, current_span(), notes))

    def _package(self, outputs):
        kind = self.spec.output_kind
        if kind == "single":
            return outputs[0]
        if kind == "dict":
            return dict(zip(self.spec.output_keys, outputs))
        return outputs

    # -- Theano's function API -----------------------------------------------------------
    def __getitem__(self, name):
        i = self._input_index(name)
        if i not in self._defaults:
            raise KeyError(f"input {name!r} has no default value")
        return self._defaults[i]

    def __setitem__(self, name, value) -> None:
        i = self._input_index(name)
        self._defaults[i] = self._filter(i, value)

    def _input_index(self, name) -> int:
        if name not in self._names:
            known = ", ".join(sorted(self._names)) or "none"
            raise KeyError(f"no input named {name!r} (named inputs: {known})")
        return self._names[name]

    def copy(
        self,
        share_memory: bool = False,
        swap: dict | None = None,
        delete_updates: bool = False,
        name: str | None = None,
        profile=None,
    ) -> Function:
        """A copy of this function; ``swap`` maps shared variables to replacements (the copy
        reads and updates those instead), ``delete_updates`` drops the updates."""
        swap = dict(swap or {})
        for old, new in swap.items():
            if not isinstance(old, SharedVariable) or not isinstance(new, SharedVariable):
                raise spec_error(
                    codes.FUNCTION_SPEC, "swap maps shared variables to shared variables"
                )
            if old.type != new.type:
                raise spec_error(
                    codes.FUNCTION_SPEC,
                    f"swap {old} ({old.type.short()}) with "
                    f"{new} of another type ({new.type.short()})",
                )
        spec = FunctionSpec(**vars(self.spec))
        spec.givens = list(self.spec.givens) + list(swap.items())
        spec.updates = [] if delete_updates else [(swap.get(s, s), e) for s, e in spec.updates]
        spec.name = name or self.spec.name
        if delete_updates:
            spec.no_default_updates = True
            # an input that fed only the deleted updates is unused now (Theano's tutorial
            # copies its accumulator this way); the original was checked when it was built
            spec.on_unused_input = "ignore"
        copied = Function(spec, self.mode, self.trust_input, self.return_numpy)
        copied._defaults = dict(self._defaults)
        return copied

    def __getstate__(self):
        return {
            "spec": self.spec,
            "mode": self.mode,
            "trust_input": self.trust_input,
            "return_numpy": self.return_numpy,
            "defaults": self._defaults,
        }

    def __setstate__(self, state) -> None:
        self.spec, self.mode = state["spec"], state["mode"]
        self.trust_input, self.name = state["trust_input"], state["spec"].name
        self.return_numpy = state.get("return_numpy", False)
        self._compile()
        self._defaults = state["defaults"]

    def __repr__(self) -> str:
        names = ", ".join(str(s.variable) for s in self.spec.inputs)
        return f"<astsym.Function {self.name or ''}({names})>"


class _HostValues:
    """How values reach a py or cpu program and come back (``GpuProgram`` has the same
    methods for the device): as they are, outputs copied only when aliased."""

    @staticmethod
    def input_value(value):
        return value

    @staticmethod
    def shared_value(var):
        return var.get_value(borrow=True)

    @staticmethod
    def unaliased(slot: int, value, given: list):
        return unaliased(value, given)

    @staticmethod
    def output_value(value, return_numpy: bool):
        return value

    @staticmethod
    def update_value(value):
        return value


_ON_HOST = _HostValues()


def _input_names(specs: list[In]) -> dict[str, int]:
    names: dict[str, int] = {}
    for i, spec in enumerate(specs):
        for name in {spec.name, spec.variable.name} - {None}:
            names.setdefault(name, i)
    return names


register_compiler(function)
