"""Control-flow conversion: rewrite a function's ``if``/``for``/``while`` into calls that
decide while tracing whether they are Python control flow or graph nodes (AutoGraph's
approach). Each statement becomes functions of its state (the names its blocks assign) and
a call into ``astsym.parse.operators``:

    if c:                        def __if_true_1(y):
        y = a                        y = a
    else:              ->            return (y,)
        y = b                    def __if_false_1(y): ...
                                 (y,) = __ag.if_stmt(c, __if_true_1, __if_false_1,
                                                     ("y",), __ag.read(locals(), ("y",)), __site[0])

Original expressions are reused unchanged, so a source map from the converted code back to
the user's file needs only their positions (see ``sourcemap.py``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from .scope import assigned_names as _assigned
from .scope import ends_with_return, find


def assigned_names(block) -> list[str]:
    """The state of a converted block: the names it assigns, less the generated functions."""
    return [n for n in _assigned(block) if not n.startswith(_GENERATED_DEFS)]


AG, SITES, OUTER = "__ag", "__site", "__outer"
_GENERATED_DEFS = ("__if_true_", "__if_false_", "__for_body_", "__while_cond_", "__while_body_")
_UNSUPPORTED_IN_LOOP = (cst.Return, cst.Yield, cst.Try, cst.Continue, cst.Raise)


@dataclass
class Site:
    """A converted (or guarded) statement of the user's source."""

    kind: str  # "if" | "for" | "while"
    line: int
    col: int
    note: str = ""  # why it was left as Python (a guard), or ""
    index: int = 0


@dataclass
class Conversion:
    code: str  # the converted function's source
    sites: list[Site] = field(default_factory=list)
    shared_candidates: list[str] = field(default_factory=list)
    anchors: list[tuple] = field(default_factory=list)  # see _shared_names
    #: The converted function's tree, and where its nodes came from: id(node) -> (line,
    #: col, end line, end col) in the source given (the static analyzer reads these).
    tree: cst.Module | None = None
    origins: dict = field(default_factory=dict)


def convert_function(source: str) -> Conversion:
    """Convert the (dedented) source of one function definition."""
    module = cst.parse_module(source)
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    positions = wrapper.resolve(PositionProvider)
    converter = _Converter(positions)
    out = wrapper.module.visit(converter)
    fdef = next(s for s in out.body if isinstance(s, cst.FunctionDef))
    final = out.with_changes(body=[fdef], header=[], footer=[])
    anchors = _shared_names(positions, final, converter)
    origins = {key: value[1:] for key, value in converter.origins.items()}
    return Conversion(
        final.code, converter.sites, converter.shared_candidates, anchors, final, origins
    )


def convert_node(fdef: cst.FunctionDef, positions) -> Conversion:
    """Convert a function definition that is part of an already parsed file, given that
    file's positions (the static analyzer's way: no code text, no source map; sites and
    origins are in the file's lines and columns)."""
    converter = _Converter(positions)
    out = fdef.visit(converter)
    origins = {key: value[1:] for key, value in converter.origins.items()}
    tree = cst.Module(body=[out])
    return Conversion("", converter.sites, converter.shared_candidates, [], tree, origins)


def _shared_names(original_positions, module: cst.Module, converter) -> list[tuple]:
    """(generated line, col, original line, col) of every node the conversion carried over
    from the user's code, and of each converted statement's call: the anchors of the source
    map back to the user's code."""
    produced = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    anchors = []
    for ref, site in zip(converter.site_refs, converter.sites):
        if ref in produced:
            anchors.append((produced[ref].start.line, 1, site.line, site.col))
    for node, line, col, *_ in converter.origins.values():
        pos = produced.get(node)
        if pos is not None:
            anchors.append((pos.start.line, pos.start.column + 1, line, col))
    return sorted(anchors)


class _Converter(cst.CSTTransformer):
    def __init__(self, positions) -> None:
        self.positions = positions
        self.sites: list[Site] = []
        self.shared_candidates: list[str] = []
        self.depth = 0
        self.counter = 0
        self.elifs: dict[int, list] = {}  # an elif's converted statements, by its node's id
        self.elif_ids: set[int] = set()
        self.site_refs: list = []  # the ``__site[i]`` expressions, to anchor their lines
        self.origins: dict[int, tuple] = {}  # id(converted node) -> (node, line, col)

    def on_leave(self, original_node, updated_node):
        result = super().on_leave(original_node, updated_node)
        pos = self.positions.get(original_node)
        if pos is not None:
            end = (pos.end.line, pos.end.column + 1)
            self.record(result, pos.start.line, pos.start.column + 1, *end)
        return result

    def record(self, node, line: int, col: int, end_line=None, end_col=None) -> None:
        if isinstance(node, cst.CSTNode):
            self.origins[id(node)] = (node, line, col, end_line, end_col)

    # -- helpers -------------------------------------------------------------------------
    def _site(self, node, kind: str, note: str = "") -> cst.BaseExpression:
        """A site at ``node`` (an original node, or one this conversion carried over)."""
        pos = self.positions.get(node)
        if pos is not None:
            line, col = pos.start.line, pos.start.column + 1
        else:
            line, col = self.origins.get(id(node), (None, 0, 0))[1:3]
        self.sites.append(Site(kind, line, col, note, len(self.sites)))
        ref = _expr(f"{SITES}[{len(self.sites) - 1}]")
        self.site_refs.append(ref)
        return ref

    def _name(self, prefix: str) -> str:
        self.counter += 1
        return f"__{prefix}_{self.counter}"

    # -- the function itself -------------------------------------------------------------
    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        self.depth += 1
        return self.depth == 1  # nested defs are converted when they are called

    def leave_FunctionDef(self, original, updated: cst.FunctionDef):
        self.depth -= 1
        if self.depth:
            return updated
        params = [p.name.value for p in _all_params(updated.params)]
        names = [
            n
            for n in assigned_names(updated.body.body)
            if n not in params and not n.startswith("__")
        ]
        self.shared_candidates = names
        prologue = [_stmt(f"{n} = {AG}.outer({OUTER}, globals(), {n!r})") for n in names]
        # ``global w`` / ``nonlocal w``: w starts at the outer value like any rebound name,
        # and its final value becomes an update (the outer binding itself never changes)
        kept = [s for s in updated.body.body if not _is_declaration(s)]
        body = [s.visit(_RecordReturns(names, self)) for s in kept]
        if not ends_with_return(body):
            body.append(_stmt(f"return {AG}.ret(None, {AG}.read(locals(), {tuple(names)!r}))"))
        return updated.with_changes(
            decorators=[], body=updated.body.with_changes(body=prologue + body)
        )

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.Call:
        if _is_name(updated.func, "range"):
            return updated.with_changes(func=_expr(f"{AG}.range_"))
        if isinstance(updated.func, cst.Name) and updated.func.value.startswith("__"):
            return updated
        call = _expr(f"{AG}.call")
        return cst.Call(func=call, args=[cst.Arg(updated.func), *updated.args])

    def leave_Comparison(self, original: cst.Comparison, updated: cst.Comparison):
        """``a == b`` / ``a != b`` -> ``__ag.eq(a, b)`` / ``__ag.ne(a, b)``: elementwise on
        symbolic values, so ``if x == 0`` is a symbolic condition (not Theano's identity)."""
        if len(updated.comparisons) != 1:
            return updated
        target = updated.comparisons[0]
        helper = {cst.Equal: "eq", cst.NotEqual: "ne"}.get(type(target.operator))
        if helper is None:
            return updated
        return _call(helper, [updated.left, target.comparator])

    def leave_IfExp(self, original: cst.IfExp, updated: cst.IfExp) -> cst.Call:
        """``a if c else b`` -> ``__ag.if_exp(c, lambda: a, lambda: b, site)``."""
        then = cst.Lambda(params=cst.Parameters(), body=updated.body)
        other = cst.Lambda(params=cst.Parameters(), body=updated.orelse)
        return _call("if_exp", [updated.test, then, other, self._site(original, "if")])

    def leave_Expr(self, original: cst.Expr, updated: cst.Expr):
        """``w.assign(e)`` -> ``w = __ag.assign(w, e)``: later reads of ``w`` see ``e``."""
        call = updated.value
        if not (isinstance(call, cst.Call) and _is_helper(call.func, "call") and call.args):
            return updated
        method = call.args[0].value
        if not (
            isinstance(method, cst.Attribute)
            and method.attr.value == "assign"
            and isinstance(method.value, cst.Name)
            and len(call.args) == 2
        ):
            return updated
        target = method.value
        value = _call("assign", [target, call.args[1].value])
        return cst.Assign([cst.AssignTarget(target)], value)

    # -- if ------------------------------------------------------------------------------
    def leave_If(self, original: cst.If, updated: cst.If):
        stmts = self._convert_if(original, updated)
        if isinstance(stmts, cst.If):
            return stmts
        if id(original) in self.elif_ids:  # an elif stands where one node must: its parent
            self.elifs[id(updated)] = stmts  # if takes the converted statements
            return updated
        return cst.FlattenSentinel(stmts)

    def visit_If(self, node: cst.If) -> None:
        if isinstance(node.orelse, cst.If):
            self.elif_ids.add(id(node.orelse))

    def _else_block(self, updated: cst.If) -> list:
        orelse = updated.orelse
        if orelse is None:
            return []
        if isinstance(orelse, cst.If):
            return self.elifs.pop(id(orelse), None) or [orelse]
        return list(orelse.body.body)

    def _convert_if(self, original: cst.If, updated: cst.If):
        blocks = [list(updated.body.body), self._else_block(updated)]
        forms = (cst.Break, cst.Continue, cst.Yield, cst.Global, cst.Nonlocal)
        if find(blocks[0] + blocks[1], forms):
            return self._guard_if(original, updated, "break/continue/yield inside it")
        both_return = ends_with_return(blocks[0]) and ends_with_return(blocks[1])
        if not both_return and find(blocks[0] + blocks[1], (cst.Return,)):
            return self._guard_if(original, updated, "a return in only one branch")
        result = self._name("ret") if both_return else None
        if result:
            blocks = [_return_to_assign(b, result) for b in blocks]
        state = assigned_names(blocks[0] + blocks[1])
        true_fn, false_fn = self._name("if_true"), self._name("if_false")
        defs = [_def(true_fn, state, blocks[0]), _def(false_fn, state, blocks[1])]
        call = _call(
            "if_stmt",
            [
                updated.test,
                _expr(true_fn),
                _expr(false_fn),
                _names(state),
                _read(state),
                self._site(original, "if"),
            ],
        )
        stmts = defs + [_assign(state, call)]
        if result:
            stmts.append(_stmt(f"return {result}"))
        return stmts

    def _guard_if(self, original, updated, why: str) -> cst.If:
        test = _call("python_cond", [updated.test, self._site(original, "if", why)])
        return updated.with_changes(test=test)

    # -- for -----------------------------------------------------------------------------
    def leave_For(self, original: cst.For, updated: cst.For):
        body, brk, why = self._loop_body(updated)
        if why:
            return self._guard_loop(original, updated, why)
        item = self._name("item")
        body, taps = _taps(body, updated.target, assigned_names(body), self)
        body = [
            cst.SimpleStatementLine([cst.Assign([cst.AssignTarget(updated.target)], _expr(item))])
        ] + body
        state = assigned_names(body) + _grown_lists(body, assigned_names(body))
        fn = self._name("for_body")
        tap_args = _expr("(" + "".join(f"({x}, {k}), " for _, x, k in taps) + ")")
        call = _call(
            "for_stmt",
            [
                updated.iter,
                _expr(fn),
                _names(state),
                _read(state),
                _expr(repr(brk)),
                self._site(original, "for"),
                tap_args,
            ],
        )
        params = [item, *[name for name, _, _ in taps], *state]
        return cst.FlattenSentinel([_def(fn, params, body, returns=state), _assign(state, call)])

    def _guard_loop(self, original, updated, why: str):
        at = self.__dict__.pop("offender", original)
        guarded = _call("python_iter", [updated.iter, self._site(at, "for", why)])
        return updated.with_changes(iter=guarded)

    # -- while ---------------------------------------------------------------------------
    def leave_While(self, original: cst.While, updated: cst.While):
        body, brk, why = self._loop_body(updated)
        if why:
            return self._guard_while(original, updated, why)
        state = assigned_names(body) + _grown_lists(body, assigned_names(body))
        cond_fn, body_fn = self._name("while_cond"), self._name("while_body")
        cond_def = _def(
            cond_fn, state, [cst.SimpleStatementLine([cst.Return(updated.test)])], returns=None
        )
        call = _call(
            "while_stmt",
            [
                _expr(cond_fn),
                _expr(body_fn),
                _names(state),
                _read(state),
                _expr(repr(brk)),
                self._site(original, "while"),
            ],
        )
        return cst.FlattenSentinel([cond_def, _def(body_fn, state, body), _assign(state, call)])

    def _guard_while(self, original, updated, why: str):
        at = self.__dict__.pop("offender", original)
        return updated.with_changes(
            test=_call("python_cond", [updated.test, self._site(at, "while", why)])
        )

    def _loop_body(self, updated):
        """(body, break flag, None) for a loop that converts; (None, None, why) otherwise,
        ``why`` locating the first statement that stops it (the error will point there)."""
        body = list(updated.body.body)
        found = find(body, _UNSUPPORTED_IN_LOOP)
        if found:
            self.offender = found[0]
            name = type(found[0]).__name__.lower()
            return None, None, f"a `{name}` statement in the loop"
        if updated.orelse is not None:
            self.offender = updated.orelse
            return None, None, "an `else` block on the loop"
        body, brk = self._break_flag(body)
        if brk is False:
            return None, None, "a break that is not the last `if c: break`"
        return body, brk, None

    def _break_flag(self, body: list):
        """A last statement ``if c: break`` becomes ``__brk = c`` (the loop's until)."""
        if not find(body, (cst.Break,), loops_are_scopes=True):
            return body, None
        last = body[-1] if body else None
        simple = (
            isinstance(last, cst.If)
            and last.orelse is None
            and len(last.body.body) == 1
            and isinstance(last.body.body[0], cst.SimpleStatementLine)
            and isinstance(last.body.body[0].body[0], cst.Break)
        )
        if not simple or find(body[:-1], (cst.Break,), loops_are_scopes=True):
            return body, False
        flag = self._name("brk")
        test = last.test
        if isinstance(test, cst.Call) and _is_helper(test.func, "python_cond"):
            test = test.args[0].value  # the guard leave_If put on it: the loop handles it
            guarded = self.sites[self.site_refs.index(last.test.args[1].value)]
            guarded.kind, guarded.note = "break", ""
        assign = cst.SimpleStatementLine([cst.Assign([cst.AssignTarget(cst.Name(flag))], test)])
        return body[:-1] + [assign], flag


# -- building pieces of code -----------------------------------------------------------------
@functools.lru_cache(maxsize=4096)
def _expr(text: str) -> cst.BaseExpression:
    """Generated code pieces are parsed once (nodes are immutable, so they can be shared)."""
    return cst.parse_expression(text)


@functools.lru_cache(maxsize=4096)
def _stmt(text: str) -> cst.BaseStatement:
    return cst.parse_statement(text)


class _Rebuilding(cst.CSTTransformer):
    """A pass over converted code that rebuilds nodes: what it builds keeps the source map
    of the node it replaces. Nested functions and lambdas are not entered."""

    converter = None

    def on_leave(self, original_node, updated_node):
        result = super().on_leave(original_node, updated_node)
        origin = self.converter.origins.get(id(original_node)) if self.converter else None
        if origin is not None and result is not original_node:
            self.converter.record(result, *origin[1:])
        return result

    def visit_FunctionDef(self, node) -> bool:
        return False

    def visit_Lambda(self, node) -> bool:
        return False


class _TapReads(_Rebuilding):
    """``x[t + k]`` (``t`` the loop index, ``x`` not assigned in the loop, ``k`` a literal)
    -> a parameter ``__tap_x_k``: the loop can read it through scan taps."""

    def __init__(self, index: str, assigned: list[str], converter=None) -> None:
        self.index, self.assigned, self.converter = index, assigned, converter
        self.taps: list[tuple[str, str, int]] = []  # (parameter, array name, offset)

    def leave_Subscript(self, original, updated):
        if not isinstance(updated.value, cst.Name) or updated.value.value in self.assigned:
            return updated
        if len(updated.slice) != 1 or not isinstance(updated.slice[0].slice, cst.Index):
            return updated
        offset = _offset_of(updated.slice[0].slice.value, self.index)
        if offset is None:
            return updated
        array = updated.value.value
        name = f"__tap_{array}_{'m' if offset < 0 else 'p'}{abs(offset)}"
        if all(n != name for n, _, _ in self.taps):
            self.taps.append((name, array, offset))
        return cst.Name(name)


def _offset_of(expr, index: str) -> int | None:
    """k when ``expr`` is ``t``, ``t + k`` or ``t - k`` with k an int literal."""
    if isinstance(expr, cst.Name) and expr.value == index:
        return 0
    if not isinstance(expr, cst.BinaryOperation) or not _is_name(expr.left, index):
        return None
    if not isinstance(expr.right, cst.Integer):
        return None
    k = int(expr.right.value)
    if isinstance(expr.operator, cst.Add):
        return k
    return -k if isinstance(expr.operator, cst.Subtract) else None


def _taps(body: list, target, assigned: list[str], converter=None):
    """The body with its ``x[t + k]`` reads turned into tap parameters, and the taps."""
    if not isinstance(target, cst.Name) or target.value in assigned:
        return body, []
    reads = _TapReads(target.value, assigned, converter)
    return [stmt.visit(reads) for stmt in body], reads.taps


def _grown_lists(body, state) -> list[str]:
    """Names the loop body grows in place (``xs.append(v)``): part of the loop's state, so a
    symbolic loop can tell the user that this does not work (one trace, not one per step)."""
    names = []
    for call in find(body, (cst.Call,)):
        if not (_is_helper(call.func, "call") and call.args):
            continue
        method = call.args[0].value
        if (
            isinstance(method, cst.Attribute)
            and isinstance(method.value, cst.Name)
            and method.attr.value in ("append", "extend", "insert")
            and method.value.value not in state + names
        ):
            names.append(method.value.value)
    return names


def _is_declaration(stmt) -> bool:
    return isinstance(stmt, cst.SimpleStatementLine) and all(
        isinstance(s, (cst.Global, cst.Nonlocal)) for s in stmt.body
    )


def _is_helper(node, name: str) -> bool:
    return isinstance(node, cst.Attribute) and _is_name(node.value, AG) and node.attr.value == name


def _is_name(node, name: str) -> bool:
    return isinstance(node, cst.Name) and node.value == name


def _call(helper: str, args: list) -> cst.Call:
    return cst.Call(func=_expr(f"{AG}.{helper}"), args=[cst.Arg(a) for a in args])


def _names(state: list[str]) -> cst.BaseExpression:
    return _expr(repr(tuple(state)))


def _read(state: list[str]) -> cst.BaseExpression:
    return _expr(f"{AG}.read(locals(), {tuple(state)!r})")


def _assign(state: list[str], call: cst.Call) -> cst.BaseStatement:
    if not state:
        return cst.SimpleStatementLine([cst.Expr(call)])
    target = cst.Tuple([cst.Element(cst.Name(n)) for n in state])
    return cst.SimpleStatementLine([cst.Assign([cst.AssignTarget(target)], call)])


def _def(name: str, params: list[str], body: list, returns: list[str] | None = ()):
    """``def name(params): body; return (returns...)`` (returns defaults to params)."""
    returns = params if returns == () else returns
    stmts = list(body) or [cst.SimpleStatementLine([cst.Pass()])]
    if returns is not None:
        stmts.append(_stmt(f"return ({''.join(n + ', ' for n in returns)})"))
    header = cst.parse_statement(f"def {name}({', '.join(params)}):\n    pass\n")
    return header.with_changes(body=cst.IndentedBlock(body=stmts))


def _return_to_assign(block, result: str) -> list:
    last = block[-1]
    value = last.body[-1].value or cst.Name("None")
    assign = cst.Assign([cst.AssignTarget(cst.Name(result))], value)
    return list(block[:-1]) + [last.with_changes(body=[*last.body[:-1], assign])]


class _RecordReturns(_Rebuilding):
    """``return x`` in the function (not in nested defs) -> ``return __ag.ret(x, <state>)``:
    the values the shared variables end with become their updates."""

    def __init__(self, names: list[str], converter) -> None:
        self.names, self.converter = names, converter

    def leave_Return(self, original: cst.Return, updated: cst.Return) -> cst.Return:
        value = updated.value or cst.Name("None")
        if isinstance(value, cst.Tuple) and not value.lpar:  # return a, b: one argument
            value = value.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
        return updated.with_changes(value=_call("ret", [value, _read(self.names)]))


def _all_params(params: cst.Parameters) -> list[cst.Param]:
    out = list(params.posonly_params) + list(params.params) + list(params.kwonly_params)
    for star in (params.star_arg, params.star_kwarg):
        if isinstance(star, cst.Param):
            out.append(star)
    return out
