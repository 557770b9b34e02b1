"""The registry of diagnostic codes: a stable code, a kebab-case name, what it checks, why,
an example and how to fix it (``astsym explain`` prints an entry).

>>> CODES["AS201"].name
'broadcast-mismatch'
>>> lookup("broadcast-mismatch").code
'AS201'
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Code:
    code: str
    name: str
    summary: str
    example: str
    explanation: str = ""  # why it is reported, and what exactly is checked
    fix: str = ""  # the usual way to fix it (the help text of SARIF and `astsym explain`)


CODES: dict[str, Code] = {}


def _code(code: str, name: str, summary: str, example: str, explanation="", fix="") -> str:
    CODES[code] = Code(code, name, summary, example, explanation, fix)
    return code


def lookup(text: str) -> Code | None:
    """The entry for a code (``"AS201"``, ``"as201"``) or a kebab name, or None."""
    text = text.strip()
    if text.upper() in CODES:
        return CODES[text.upper()]
    return next((c for c in CODES.values() if c.name == text.lower()), None)


SYNTAX_ERROR = _code(
    "AS100",
    "syntax-error",
    "The file is not valid Python.",
    "def f(:",
    explanation=(
        "Every checked file is parsed (never imported or run); a file that does not parse "
        "cannot be analysed, so nothing else is reported for it."
    ),
    fix=(
        "Fix the syntax at the marked position; `python -m py_compile FILE` reports the same error."
    ),
)
INVALID_ANNOTATION = _code(
    "AS101",
    "invalid-annotation",
    "A parameter annotation is not a dtype subscripted with dims.",
    'def f(x: f32["n", 2.5]): ...',
    explanation=(
        "A `@symbolic` parameter gets its type from its annotation: a dtype (`f32`, `i64`, "
        "`bool_`, ...) subscripted with dims, each a name (a symbolic size, the same name "
        "meaning the same size throughout the signature), a non-negative int (a static size),"
        " `()` for a scalar, or a leading `...` for any number of leading dims."
    ),
    fix=(
        "Write the annotation as a dtype subscripted with dims, such as `f32['n', 3]`, or "
        "leave the parameter unannotated so that its type comes from the first call."
    ),
)
UNSUPPORTED = _code(
    "AS102",
    "unsupported-construct",
    "A Python construct that cannot become a graph, such as `continue` in a symbolic loop.",
    "for row in x:\n    if row.sum() > 0:\n        continue",
    explanation=(
        "Inside a `@symbolic` function, `if`, `for` and `while` on symbolic values become "
        "`ifelse`, `switch` and `scan` nodes. Constructs with no graph equivalent, such as "
        "`return`, `yield`, `try`, `raise` or `continue` inside a symbolic loop, cannot be "
        "converted."
    ),
    fix=(
        "Express the step with `where`/`switch` or a mask instead, or move the construct out "
        "of the symbolic function."
    ),
)
BROADCAST = _code(
    "AS201",
    "broadcast-mismatch",
    "Two operands of an elementwise op have dims that are neither equal nor 1.",
    "x: f32[n, 3] + y: f32[4]",
    explanation=(
        "Elementwise ops broadcast as NumPy does: dims are aligned from the right, and each "
        "pair must be equal or contain a 1. Dims of different static sizes (or a dim name "
        "already bound to another size) can never broadcast, so the graph would fail on every"
        " input."
    ),
    fix=(
        "Make the dims agree: transpose or reshape one operand, index it with `[:, None]` to "
        "add a broadcastable dim, or fix the annotation that gives the wrong size."
    ),
)
MATMUL = _code(
    "AS202",
    "matmul-inner-dim-mismatch",
    "The contracted dims of a matrix product differ.",
    "a: f32[n, 3] @ b: f32[4, m]",
    explanation=(
        "`a @ b` and `dot(a, b)` contract the last dim of `a` with the second-to-last (or "
        "only) dim of `b`; those two sizes must be equal."
    ),
    fix=("Transpose one operand (`b.T`) or fix the annotation whose inner dim is wrong."),
)
RANK = _code(
    "AS203",
    "rank-mismatch",
    "An operand has the wrong number of dims for the op or the place it is used.",
    "T.dot(x: f32[2, 3, 4, 5], y: f32[5]) where a matrix is required",
    explanation=(
        "Some ops need operands of a given rank (a matrix or vector for `dot`, a scalar "
        "condition for `ifelse`), and some places (an update, a return annotation) fix the "
        "rank of what they receive."
    ),
    fix=(
        "Reshape, index or reduce the operand to the rank the op expects, or use the op meant"
        " for that rank (`tensordot`, `batched_dot`, ...)."
    ),
)
AXIS = _code(
    "AS204",
    "axis-out-of-range",
    "A reduction or shape op names an axis the operand does not have.",
    "x: f32[n, 3].sum(axis=2)",
    explanation=(
        "Axes name dims of the operand: for an operand of rank r, valid axes are -r .. r-1. "
        "An out-of-range axis raises in NumPy too, so it is always a bug."
    ),
    fix=(
        "Use an axis the operand has (negative axes count from the end), or check the "
        "operand's rank."
    ),
)
RESHAPE = _code(
    "AS205",
    "reshape-size-mismatch",
    "A reshape asks for a number of elements the operand does not have.",
    "x: f32[2, 3].reshape((4, 2))",
    explanation=(
        "A reshape keeps the number of elements. When the operand's size and the requested "
        "shape are both known statically and differ, the reshape can never succeed."
    ),
    fix=("Ask for a shape with the same number of elements, or use `-1` for the one dim to infer."),
)
DTYPE_LOSS = _code(
    "AS206",
    "dtype-loss",
    "A value would be converted to a dtype that cannot hold it exactly (float into int).",
    "w: shared int64; w = w + 0.5",
    explanation=(
        "A value is converted implicitly only when its dtype can hold it exactly (as NumPy's "
        "`can_cast(..., 'safe')` says); putting a float into an int shared variable, or "
        "float64 into float32 storage, would silently lose information."
    ),
    fix=(
        "Cast explicitly (`.astype(...)`) where the loss is intended, or give the target a "
        "wider dtype."
    ),
)
BRANCH = _code(
    "AS207",
    "branch-type-mismatch",
    "The two branches of an ifelse or symbolic `if` give different types.",
    "ifelse(c, x: f32[n], y: f32[n, 1])",
    explanation=(
        "An `ifelse` (or a symbolic `if`) yields one value of one type, whichever branch "
        "runs, so both branches must give the same dtype and rank, and compatible static "
        "shapes."
    ),
    fix=("Cast or reshape one branch so both give the same type."),
)
ONE_BRANCH = _code(
    "AS208",
    "defined-in-one-branch",
    "A variable is assigned in only one branch of a symbolic `if` and used afterwards.",
    "if c > 0:\n    y = x\nreturn y",
    explanation=(
        "A symbolic `if` builds both branches into the graph and selects the results; a "
        "variable that only one branch assigns has no value on the other path, so using it "
        "afterwards is undefined."
    ),
    fix=("Assign the variable in both branches, or before the `if`."),
)
LOOP_CARRY = _code(
    "AS209",
    "loop-carried-type-change",
    "A variable carried through a loop changes type between iterations.",
    "for t in range(n):\n    h = h[None]",
    explanation=(
        "A symbolic loop becomes a `scan` whose carried state has one fixed type; a variable "
        "whose dtype, rank or static shape changes in the body cannot be carried."
    ),
    fix=(
        "Keep the carried value's type fixed (cast or reshape back at the end of the body), "
        "or collect per-step values as the loop's outputs instead."
    ),
)
RETURN_TYPE = _code(
    "AS210",
    "return-type-mismatch",
    "The returned value does not match the return annotation.",
    "def f(x: f32[n]) -> f32[()]:\n    return x",
    explanation=(
        "A return annotation on a `@symbolic` function is a promise about the result's dtype "
        "and shape; the inferred type of the returned value does not keep it."
    ),
    fix=("Fix the returned expression (reduce, reshape, cast) or correct the annotation."),
)
SHAPE = _code(
    "AS211",
    "shape-mismatch",
    "Operands whose sizes must agree (concatenate, set_subtensor, ifelse) do not.",
    "concatenate([x: f32[2, 3], y: f32[2, 4]], axis=0)",
    explanation=(
        "Ops that combine operands without broadcasting need equal sizes on the dims they "
        "share: `concatenate`/`stack` on every dim but the joined one, `set_subtensor` "
        "between the indexed region and the value, the branches of an `ifelse`."
    ),
    fix=("Make the sizes agree (slice, pad or reshape one operand), or join along another axis."),
)
BAD_ARGUMENT = _code(
    "AS212",
    "invalid-argument",
    "An op was given a parameter or operand it does not accept.",
    "x.astype('float128')",
    explanation=(
        "A parameter or operand that the op cannot accept at all, such as an unknown dtype "
        "name, a non-integer index or an option the op does not have."
    ),
    fix=("Check the op's signature and pass a value it accepts."),
)
INDEX = _code(
    "AS213",
    "index-out-of-range",
    "A static index is out of range for a dim of static size, or there are too many indices.",
    "x: f32[3][5]",
    explanation=(
        "A static index into a dim of static size must lie in -size .. size-1, and an operand"
        " of rank r takes at most r indices (not counting `None` and `...`)."
    ),
    fix=("Index within the dim's size, or check the operand's shape and rank."),
)
DIM_NAMES = _code(
    "AS214",
    "distinct-dim-names",
    "Two different dim names must be equal where they meet (reported with --strict-dims).",
    'x: f32["n", 3] + y: f32["m", 3]',
    explanation=(
        "Dims with different names are not known to differ, so by default nothing is "
        "reported: `n` and `m` may be the same size at run time. With `--strict-dims` (or "
        "`strict-dims = true` under `[tool.astsym]`) the linter warns where an op needs "
        "two differently named dims to be equal, since that is often a mistake."
    ),
    fix="Use one name for dims that must agree, or reshape or transpose the operand.",
)
BAD_INPUT = _code(
    "AS301",
    "bad-input",
    "A value given to a compiled function does not fit its input's type.",
    "f(np.zeros((2, 2))) for a vector input",
    explanation=(
        "A compiled function checks every argument against its input's type: a value of "
        "another rank, a static dim of another size, a non-array or a dtype that does not "
        "convert is rejected before anything runs, and nothing is changed."
    ),
    fix=(
        "Pass a value with the input's rank and dtype (`np.asarray(x, dtype=...)`), or "
        "declare the input with the type you mean to pass."
    ),
)
INPUT_DOWNCAST = _code(
    "AS302",
    "input-downcast",
    "A value would lose precision converting to its input's dtype.",
    "f(np.float64(0.1)) for a float32 input",
    explanation=(
        "By default an argument is converted to its input's dtype only when no precision is "
        "lost; a float64 value for a float32 input would be rounded."
    ),
    fix=(
        "Pass a value of the input's dtype, or allow rounding with "
        "`allow_input_downcast=True` (or `In(x, allow_downcast=True)`)."
    ),
)
RUNTIME = _code(
    "AS303",
    "runtime-error",
    "An op failed while the compiled function ran (sizes known only at run time disagree).",
    "x + y with x of shape (3,) and y of shape (4,)",
    explanation=(
        "Some sizes are only known when the function runs (symbolic dims, data-dependent "
        "indices); when an op finds they disagree, the error names the op and the user line "
        "that built it."
    ),
    fix=(
        "Check the shapes of the values passed in; annotations with static sizes let `astsym "
        "check` find such errors before running."
    ),
)
FUNCTION_SPEC = _code(
    "AS304",
    "bad-function-spec",
    "The inputs, outputs, updates or givens given to `function` are inconsistent.",
    "function([x], y) where y depends on an input that is not listed",
    explanation=(
        "`function(inputs, outputs, updates=, givens=)` must describe a closed computation: "
        "inputs are distinct variables, every output depends only on inputs, shared variables"
        " and constants, and updates and givens are (variable, expression) pairs."
    ),
    fix=(
        "List every variable the outputs depend on as an input (or replace it through "
        "`givens`), and pass updates and givens as pairs."
    ),
)
BAD_UPDATE = _code(
    "AS305",
    "bad-update",
    "An update gives a shared variable a value of another type.",
    "updates=[(w_f32_vector, w_f32_vector.sum())]",
    explanation=(
        "An update replaces a shared variable's value after each call, so the new value must "
        "have the shared variable's dtype and rank; only shared variables can be updated, "
        "each once."
    ),
    fix=(
        "Give the update expression the shared variable's type (cast or reshape), and update "
        "each shared variable once."
    ),
)
