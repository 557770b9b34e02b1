"""Abstract interpretation of a converted ``@symbolic`` function, for the static analyzer.

The analyzer converts a function exactly as tracing does (``convert.py``), then, instead of
running the converted code, walks its tree: names hold graph variables built from the
annotations' types, Python values, or ``UNKNOWN``; operators and calls build the same graph
nodes tracing builds (each op's own shape rule decides), and the converted control flow goes
through the same helpers (``operators.py``). Only what ``sandbox`` allows is ever called.
An error an op raises becomes a diagnostic at the user's line, and the value that failed
becomes ``UNKNOWN`` so the analysis goes on.
"""

from __future__ import annotations

import contextlib
import operator
from dataclasses import dataclass, field

import libcst as cst

from astsym.graph.basic import Variable
from astsym.graph.source import fixed_span
from astsym.typecheck import AstsymError, Diagnostic, RuleError, SourceSpan
from astsym.typecheck.diagnostics import error

from . import sandbox
from .sandbox import UNKNOWN, is_unknown

MAX_STEPS = 200_000  # statements interpreted for one function before it gives up
MAX_DEPTH = 12  # nested calls of the user's functions
MAX_UNROLL = 64  # Python loop iterations followed exactly


class GiveUp(Exception):
    """The analysis of one function cannot go on (too long, too deep): it stops silently."""


class _Raise(Exception):
    """A ``raise`` in the user's code: this path ends."""


@dataclass
class _Return(Exception):
    value: object


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


BINARY = {
    cst.Add: operator.add, cst.Subtract: operator.sub, cst.Multiply: operator.mul,
    cst.Divide: operator.truediv, cst.FloorDivide: operator.floordiv, cst.Modulo: operator.mod,
    cst.Power: operator.pow, cst.MatrixMultiply: operator.matmul, cst.LeftShift: operator.lshift,
    cst.RightShift: operator.rshift, cst.BitOr: operator.or_, cst.BitAnd: operator.and_,
    cst.BitXor: operator.xor,
}  # fmt: skip
AUGMENTED = {
    cst.AddAssign: operator.iadd, cst.SubtractAssign: operator.isub,
    cst.MultiplyAssign: operator.imul, cst.DivideAssign: operator.itruediv,
    cst.FloorDivideAssign: operator.ifloordiv, cst.ModuloAssign: operator.imod,
    cst.PowerAssign: operator.ipow, cst.MatrixMultiplyAssign: operator.imatmul,
    cst.LeftShiftAssign: operator.ilshift, cst.RightShiftAssign: operator.irshift,
    cst.BitOrAssign: operator.ior, cst.BitAndAssign: operator.iand,
    cst.BitXorAssign: operator.ixor,
}  # fmt: skip
UNARY = {cst.Minus: operator.neg, cst.Plus: operator.pos, cst.BitInvert: operator.invert}
COMPARE = {
    cst.LessThan: operator.lt, cst.LessThanEqual: operator.le, cst.GreaterThan: operator.gt,
    cst.GreaterThanEqual: operator.ge, cst.Equal: operator.eq, cst.NotEqual: operator.ne,
    cst.Is: operator.is_, cst.IsNot: operator.is_not,
    cst.In: lambda a, b: operator.contains(b, a),
    cst.NotIn: lambda a, b: not operator.contains(b, a),
}  # fmt: skip


@dataclass
class Placement:
    """Where interpreted nodes stand in the user's file (conversion keeps the positions of
    the nodes it carries over; generated nodes have none)."""

    file: str
    origins: dict  # id(node) -> (line, col, end line, end col), 1-based

    def span(self, node) -> SourceSpan | None:
        found = self.origins.get(id(node))
        return None if found is None else SourceSpan(self.file, *found)


@dataclass
class Frame:
    """The local names of one running function (a converted block or a user function)."""

    vars: dict
    parent: Frame | None
    module: dict  # the module's names
    placement: Placement
    specials: dict = field(default_factory=dict)  # __ag, __site, __outer

    def lookup(self, name: str):
        frame = self
        while frame is not None:
            if name in frame.vars:
                return frame.vars[name]
            if name in frame.specials:
                return frame.specials[name]
            frame = frame.parent
        if name in self.module:
            return self.module[name]
        return sandbox.SAFE_BUILTINS.get(name, UNKNOWN)


class Closure:
    """A function defined in interpreted code (a converted block, a lambda, a nested def
    that is not the user's): calling it interprets its body."""

    def __init__(self, interp: Interpreter, node, frame: Frame) -> None:
        self.interp, self.node, self.frame = interp, node, frame

    def __call__(self, *args, **kwargs):
        return self.interp.run_closure(self, args, kwargs)


class Interpreter:
    """Walks converted trees. ``report`` receives each diagnostic; ``host`` (the module
    analysis, ``analyze.py``) defines and calls the user's functions and binds imports:
    ``host.define(node, frame)``, ``host.import_(node, frame)``, and
    ``host.call(fn, args, kwargs)``, which returns NotImplemented for what is not the
    user's."""

    def __init__(self, report, host) -> None:
        self.report = report
        self.host = host
        self.steps = 0
        self.depth = 0
        self._spans: list[SourceSpan] = []
        self.base_span: SourceSpan | None = None  # where errors go when no node is known

    # -- places and errors -----------------------------------------------------------------
    def current_span(self) -> SourceSpan | None:
        return self._spans[-1] if self._spans else self.base_span

    @contextlib.contextmanager
    def at(self, node, frame: Frame):
        span = frame.placement.span(node)
        if span is None:
            yield
            return
        self._spans.append(span)
        try:
            yield
        finally:
            self._spans.pop()

    def guarded(self, fn, *args, **kwargs):
        """Run an operation on abstract values: an astsym error becomes a diagnostic at the
        current node, any other failure an unknown value."""
        try:
            with fixed_span(self.current_span()):
                return fn(*args, **kwargs)
        except (GiveUp, _Return, _Break, _Continue, _Raise, RecursionError):
            raise
        except AstsymError as err:
            diagnostic = err.diagnostic
            if diagnostic.span is None:
                diagnostic = _with_span(diagnostic, self.current_span())
            self.report(diagnostic)
        except RuleError as err:
            self.report(error(err.code, err.message, self.current_span(), err.notes))
        except Exception:  # noqa: BLE001 - the abstraction is imprecise: never a false alarm
            pass
        return UNKNOWN

    def tick(self) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise GiveUp("too many steps")

    # -- functions -------------------------------------------------------------------------
    def run_body(self, body, frame: Frame):
        """Run a function body; its return value (None when it falls off the end)."""
        try:
            self.block(body, frame)
        except _Return as ret:
            return ret.value
        except _Raise:
            return UNKNOWN
        return None

    def run_closure(self, closure: Closure, args, kwargs):
        node = closure.node
        frame = Frame({}, closure.frame, closure.frame.module, closure.frame.placement)
        if not self.bind(node.params, args, kwargs, frame, closure.frame):
            return UNKNOWN
        if isinstance(node, cst.Lambda):
            with self.at(node, frame):
                return self.expr(node.body, frame)
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH * 8:
                raise GiveUp("too deep")
            return self.run_body(node.body.body, frame)
        finally:
            self.depth -= 1

    def bind(self, params: cst.Parameters, args, kwargs, frame: Frame, outer: Frame) -> bool:
        """Bind call arguments to parameters (defaults evaluated in ``outer``); False when
        they do not fit (the call's value is then unknown)."""
        positional = [*params.posonly_params, *params.params]
        args = list(args)
        kwargs = dict(kwargs)
        for param in positional:
            if not self._bind_one(param, args, kwargs, frame, outer):
                return False
        star = params.star_arg
        if isinstance(star, cst.Param):
            frame.vars[star.name.value] = tuple(args)
            args = []
        if args:
            return False
        for param in params.kwonly_params:
            if not self._bind_one(param, [], kwargs, frame, outer):
                return False
        if params.star_kwarg is not None:
            frame.vars[params.star_kwarg.name.value] = kwargs
            kwargs = {}
        return not kwargs

    def _bind_one(self, param, args: list, kwargs: dict, frame: Frame, outer: Frame) -> bool:
        """One parameter from the next positional argument, a keyword, or its default."""
        name = param.name.value
        if args:
            frame.vars[name] = args.pop(0)
        elif name in kwargs:
            frame.vars[name] = kwargs.pop(name)
        elif param.default is not None:
            frame.vars[name] = self.expr(param.default, outer)
        else:
            return False
        return True

    # -- statements ------------------------------------------------------------------------
    def block(self, stmts, frame: Frame) -> None:
        for stmt in stmts:
            self.statement(stmt, frame)

    def statement(self, stmt, frame: Frame) -> None:
        self.tick()
        with self.at(stmt, frame):
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    with self.at(small, frame):
                        self.small(small, frame)
            elif isinstance(stmt, cst.FunctionDef):
                frame.vars[stmt.name.value] = self.define(stmt, frame)
            elif isinstance(stmt, cst.If):
                self.if_(stmt, frame)
            elif isinstance(stmt, cst.For):
                self.for_(stmt, frame)
            elif isinstance(stmt, cst.While):
                self.while_(stmt, frame)
            elif isinstance(stmt, cst.With):
                for item in stmt.items:
                    value = self.expr(item.item, frame)
                    if item.asname is not None:
                        self.assign(item.asname.name, UNKNOWN if value is not None else None, frame)
                self.block(stmt.body.body, frame)
            elif isinstance(stmt, (cst.Try, cst.TryStar)):
                self.try_(stmt, frame)
            elif isinstance(stmt, cst.Match):
                self.expr(stmt.subject, frame)
                self.paths([case.body.body for case in stmt.cases], frame)
            elif isinstance(stmt, cst.ClassDef):
                frame.vars[stmt.name.value] = UNKNOWN
            # anything else (match, async forms) is not followed

    def define(self, node: cst.FunctionDef, frame: Frame):
        """A generated block becomes a closure; a function the user wrote, the host's."""
        if node.name.value.startswith("__"):
            return Closure(self, node, frame)
        return self.host.define(node, frame)

    def small(self, node, frame: Frame) -> None:
        if isinstance(node, cst.Assign):
            value = self.expr(node.value, frame)
            for target in node.targets:
                self.assign(target.target, value, frame)
        elif isinstance(node, cst.AnnAssign):
            if node.value is not None:
                self.assign(node.target, self.expr(node.value, frame), frame)
        elif isinstance(node, cst.AugAssign):
            current = self.expr(node.target, frame)
            value = self.expr(node.value, frame)
            op = AUGMENTED[type(node.operator)]
            self.assign(node.target, self.guarded(sandbox.binary, op, current, value), frame)
        elif isinstance(node, cst.Expr):
            self.expr(node.value, frame)
        elif isinstance(node, cst.Return):
            raise _Return(None if node.value is None else self.expr(node.value, frame))
        elif isinstance(node, cst.Raise):
            raise _Raise()
        elif isinstance(node, cst.Break):
            raise _Break()
        elif isinstance(node, cst.Continue):
            raise _Continue()
        elif isinstance(node, cst.Assert):
            self.expr(node.test, frame)
        elif isinstance(node, cst.Del):
            for name in _names_in(node.target):
                frame.vars.pop(name, None)
        elif isinstance(node, (cst.Import, cst.ImportFrom)):
            self.host.import_(node, frame)

    def assign(self, target, value, frame: Frame) -> None:
        if isinstance(target, cst.Name):
            frame.vars[target.value] = value
        elif isinstance(target, (cst.Tuple, cst.List)):
            self.unpack(target.elements, value, frame)
        elif isinstance(target, cst.Subscript):
            obj = self.expr(target.value, frame)
            if isinstance(obj, (list, dict)):
                index = self.subscript_index(target.slice, frame)
                self.guarded(operator.setitem, obj, index, value)
        # attributes are not followed: the analyzer never changes a real object

    def unpack(self, elements, value, frame: Frame) -> None:
        starred = [i for i, e in enumerate(elements) if isinstance(e, cst.StarredElement)]
        items = None
        if not is_unknown(value) and isinstance(value, (tuple, list)):
            items = list(value)
        elif isinstance(value, Variable) and value.ndim >= 1:
            n = value.type.shape[0]
            small = isinstance(n, int) and n < 64
            items = [self.guarded(operator.getitem, value, i) for i in range(n)] if small else None
        if items is not None and not starred and len(items) != len(elements):
            items = None
        for i, element in enumerate(elements):
            node = element.value
            if items is None:
                self.assign(node, UNKNOWN, frame)
            elif starred and i == starred[0]:
                rest = len(elements) - i - 1
                self.assign(node, items[i : len(items) - rest], frame)
            elif starred and i > starred[0]:
                self.assign(node, items[len(items) - (len(elements) - i)], frame)
            else:
                self.assign(node, items[i], frame)

    def if_(self, stmt: cst.If, frame: Frame) -> None:
        test = self.expr(stmt.test, frame)
        decided = self.truth(test)
        orelse = stmt.orelse
        other = (
            [] if orelse is None else ([orelse] if isinstance(orelse, cst.If) else orelse.body.body)
        )
        if decided is True:
            self.block(stmt.body.body, frame)
        elif decided is False:
            self.block(other, frame)
        else:
            self.both(stmt.body.body, other, frame)

    def try_(self, stmt, frame: Frame) -> None:
        """The body then ``else``, or any handler: names that may differ are unknown; then
        ``finally``."""
        normal = list(stmt.body.body) + (list(stmt.orelse.body.body) if stmt.orelse else [])
        self.paths([normal] + [h.body.body for h in stmt.handlers], frame)
        if stmt.finalbody is not None:
            self.block(stmt.finalbody.body.body, frame)

    def both(self, first, second, frame: Frame) -> None:
        """Both branches of an ``if`` the analyzer cannot decide."""
        self.paths([first, second], frame)

    def paths(self, branches, frame: Frame) -> None:
        """Each of ``branches`` from the same state; names that may differ after them
        become unknown (a return in one branch ends only that branch)."""
        before = dict(frame.vars)
        outcomes = []
        for branch in branches:
            frame.vars = dict(before)
            try:
                self.block(branch, frame)
                outcomes.append(frame.vars)
            except (_Return, _Raise, _Break, _Continue):
                pass
        if not outcomes:
            frame.vars = before
            raise _Raise()
        frame.vars = join_vars(outcomes)

    def truth(self, value) -> bool | None:
        if is_unknown(value) or isinstance(value, Variable):
            return None
        try:
            return bool(value)
        except Exception:  # noqa: BLE001
            return None

    def for_(self, stmt: cst.For, frame: Frame) -> None:
        iterable = self.expr(stmt.iter, frame)
        items = self.items(iterable)
        if items is None:
            self.loop_once(stmt, lambda: self.assign(stmt.target, UNKNOWN, frame), frame)
            return
        for item in items:
            self.tick()
            self.assign(stmt.target, item, frame)
            if not self.iteration(stmt, frame):
                return
        if stmt.orelse is not None:
            self.block(stmt.orelse.body.body, frame)

    def items(self, iterable) -> list | None:
        """The items of a Python iterable small enough to follow exactly, else None."""
        if isinstance(iterable, (range, list, tuple, str, dict)) and len(iterable) <= MAX_UNROLL:
            return list(iterable)
        return None

    def loop_once(self, stmt, start, frame: Frame) -> None:
        """A loop the analyzer cannot follow: its body once, then what it changed is unknown."""
        before = dict(frame.vars)
        start()
        with contextlib.suppress(_Break, _Continue, _Raise):
            self.block(stmt.body.body, frame)
        frame.vars = join_vars([before, frame.vars])

    def while_(self, stmt: cst.While, frame: Frame) -> None:
        for _ in range(MAX_UNROLL):
            decided = self.truth(self.expr(stmt.test, frame))
            if decided is None:
                break
            if not decided:
                if stmt.orelse is not None:
                    self.block(stmt.orelse.body.body, frame)
                return
            if not self.iteration(stmt, frame):
                return
        self.loop_once(stmt, lambda: None, frame)

    def iteration(self, stmt, frame: Frame) -> bool:
        """One pass of a loop body; False when it breaks out."""
        try:
            self.block(stmt.body.body, frame)
        except _Break:
            return False
        except _Continue:
            pass
        return True

    # -- expressions -----------------------------------------------------------------------
    def expr(self, node, frame: Frame):
        with self.at(node, frame):
            return self._expr(node, frame)

    def _expr(self, node, frame: Frame):  # noqa: C901 - one case per expression kind
        if isinstance(node, cst.Name):
            return frame.lookup(node.value)
        if isinstance(node, cst.Integer):
            return int(node.value.replace("_", ""), 0)
        if isinstance(node, cst.Float):
            return float(node.value.replace("_", ""))
        if isinstance(node, cst.Imaginary):
            return complex(node.value.replace("_", ""))
        if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
            value = node.evaluated_value
            return value if value is not None else UNKNOWN
        if isinstance(node, cst.FormattedString):
            return UNKNOWN
        if isinstance(node, cst.Ellipsis):
            return Ellipsis
        if isinstance(node, cst.Attribute):
            return self.attribute(self.expr(node.value, frame), node.attr.value)
        if isinstance(node, cst.Call):
            return self.call(node, frame)
        if isinstance(node, cst.BinaryOperation):
            left, right = self.expr(node.left, frame), self.expr(node.right, frame)
            return self.guarded(sandbox.binary, BINARY[type(node.operator)], left, right)
        if isinstance(node, cst.UnaryOperation):
            value = self.expr(node.expression, frame)
            if isinstance(node.operator, cst.Not):
                decided = self.truth(value)
                return UNKNOWN if decided is None else not decided
            if is_unknown(value):
                return UNKNOWN
            return self.guarded(UNARY[type(node.operator)], value)
        if isinstance(node, cst.BooleanOperation):
            return self.boolean(node, frame)
        if isinstance(node, cst.Comparison):
            return self.compare(node, frame)
        if isinstance(node, cst.Subscript):
            value = self.expr(node.value, frame)
            index = self.subscript_index(node.slice, frame)
            if is_unknown(value) or sandbox.contains(index, is_unknown):
                return UNKNOWN
            return self.guarded(operator.getitem, value, index)
        if isinstance(node, cst.Tuple):
            return tuple(self.elements(node.elements, frame))
        if isinstance(node, cst.List):
            return list(self.elements(node.elements, frame))
        if isinstance(node, cst.Set):
            return self.guarded(set, self.elements(node.elements, frame))
        if isinstance(node, cst.Dict):
            return self.dict_(node, frame)
        if isinstance(node, cst.Lambda):
            return Closure(self, node, frame)
        if isinstance(node, cst.IfExp):
            decided = self.truth(self.expr(node.test, frame))
            if decided is None:
                self.expr(node.body, frame)
                self.expr(node.orelse, frame)
                return UNKNOWN
            return self.expr(node.body if decided else node.orelse, frame)
        if isinstance(node, cst.NamedExpr):
            value = self.expr(node.value, frame)
            self.assign(node.target, value, frame)
            return value
        if isinstance(node, (cst.ListComp, cst.GeneratorExp, cst.SetComp)):
            return self.comprehension(node, frame)
        return UNKNOWN  # await, yield, dict comprehensions, ...

    def attribute(self, value, name: str):
        if is_unknown(value) or name.startswith("__"):
            return UNKNOWN
        if sandbox.is_module(value):
            found = getattr(value, name, UNKNOWN)
            if sandbox.is_module(found) and not sandbox.module_allowed(found.__name__):
                return UNKNOWN
            return found
        return self.guarded(getattr, value, name)

    def elements(self, elements, frame: Frame) -> list:
        out = []
        for element in elements:
            value = self.expr(element.value, frame)
            if isinstance(element, cst.StarredElement):
                items = self.items(value) if not isinstance(value, tuple | list) else value
                if items is None:
                    return [UNKNOWN]
                out.extend(items)
            else:
                out.append(value)
        return out

    def dict_(self, node: cst.Dict, frame: Frame):
        out = {}
        for element in node.elements:
            if isinstance(element, cst.StarredDictElement):
                value = self.expr(element.value, frame)
                if not isinstance(value, dict):
                    return UNKNOWN
                out.update(value)
                continue
            key = self.expr(element.key, frame)
            value = self.expr(element.value, frame)
            try:
                out[key] = value
            except TypeError:
                return UNKNOWN
        return out

    def subscript_index(self, elements, frame: Frame):
        parts = []
        for element in elements:
            item = element.slice
            if isinstance(item, cst.Index):
                value = self.expr(item.value, frame)
                if item.star is not None:
                    return UNKNOWN
                parts.append(value)
            else:
                bounds = [
                    None if part is None else self.expr(part, frame)
                    for part in (item.lower, item.upper, item.step)
                ]
                parts.append(slice(*bounds))
        return parts[0] if len(parts) == 1 else tuple(parts)

    def boolean(self, node: cst.BooleanOperation, frame: Frame):
        left = self.expr(node.left, frame)
        decided = self.truth(left)
        if decided is None:
            self.expr(node.right, frame)
            return UNKNOWN
        is_and = isinstance(node.operator, cst.And)
        if decided != is_and:  # ``False and x`` / ``True or x``
            return left
        return self.expr(node.right, frame)

    def compare(self, node: cst.Comparison, frame: Frame):
        left = self.expr(node.left, frame)
        result = True
        for target in node.comparisons:
            right = self.expr(target.comparator, frame)
            if is_unknown(left) or is_unknown(right):
                return UNKNOWN
            value = self.guarded(COMPARE[type(target.operator)], left, right)
            if len(node.comparisons) == 1:
                return value
            decided = self.truth(value)
            if decided is None:
                return UNKNOWN
            if not decided:
                return False
            left = right
        return result

    def comprehension(self, node, frame: Frame):
        inner = Frame({}, frame, frame.module, frame.placement)
        out: list = []
        if not self.comp_for(node.for_in, node.elt, inner, out):
            return UNKNOWN
        return set(out) if isinstance(node, cst.SetComp) else out

    def comp_for(self, comp: cst.CompFor, elt, frame: Frame, out: list) -> bool:
        items = self.items(self.expr(comp.iter, frame))
        if items is None:
            return False
        for item in items:
            self.tick()
            self.assign(comp.target, item, frame)
            decisions = [self.truth(self.expr(cond.test, frame)) for cond in comp.ifs]
            if any(d is None for d in decisions):
                return False
            if not all(decisions):
                continue
            if comp.inner_for_in is not None:
                if not self.comp_for(comp.inner_for_in, elt, frame, out):
                    return False
            else:
                out.append(self.expr(elt, frame))
        return True

    def call(self, node: cst.Call, frame: Frame):
        fn = self.expr(node.func, frame)
        if isinstance(node.func, cst.Name) and fn is UNKNOWN:
            if node.func.value == "locals":
                return frame.vars
            if node.func.value == "globals":
                return frame.module
        args, kwargs = [], {}
        for arg in node.args:
            value = self.expr(arg.value, frame)
            if arg.star == "*":
                items = value if isinstance(value, tuple | list) else self.items(value)
                if items is None:
                    return UNKNOWN
                args.extend(items)
            elif arg.star == "**":
                if not isinstance(value, dict):
                    return UNKNOWN
                kwargs.update(value)
            elif arg.keyword is not None:
                kwargs[arg.keyword.value] = value
            else:
                args.append(value)
        return self.invoke(fn, tuple(args), kwargs)

    def invoke(self, fn, args: tuple, kwargs: dict):
        """Call ``fn`` as the user's code would, within what the analyzer allows."""
        if is_unknown(fn):
            return UNKNOWN
        if isinstance(fn, Closure):
            return fn(*args, **kwargs)
        result = self.host.call(fn, args, kwargs)
        if result is not NotImplemented:
            return result
        if getattr(fn, "__astsym_helper__", False):  # the converted code's own helpers
            return self.guarded(fn, *args, **kwargs)
        return self.guarded(sandbox.call, fn, args, kwargs)


def join_vars(outcomes: list[dict]) -> dict:
    """The names after one of several paths: kept where every path agrees (the same object,
    or variables of one type), unknown where they may differ."""
    out = {}
    for name in set().union(*outcomes):
        values = [o.get(name, UNKNOWN) for o in outcomes]
        out[name] = join_values(values)
    return out


def join_values(values: list):
    first = values[0]
    if all(v is first for v in values):
        return first
    if all(isinstance(v, Variable) for v in values) and all(v.type == first.type for v in values):
        return first
    return UNKNOWN


def _names_in(target) -> list[str]:
    if isinstance(target, cst.Name):
        return [target.value]
    if isinstance(target, (cst.Tuple, cst.List)):
        return [n for e in target.elements for n in _names_in(e.value)]
    return []


def _with_span(diagnostic: Diagnostic, span) -> Diagnostic:
    return Diagnostic(
        diagnostic.code, diagnostic.severity, diagnostic.message, span, diagnostic.notes
    )
