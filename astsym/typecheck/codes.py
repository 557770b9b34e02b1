"""The registry of diagnostic codes: a stable code, a kebab-case name, what it checks.

>>> CODES["AS201"].name
'broadcast-mismatch'
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Code:
    code: str
    name: str
    summary: str
    example: str


CODES: dict[str, Code] = {}


def _code(code: str, name: str, summary: str, example: str) -> str:
    CODES[code] = Code(code, name, summary, example)
    return code


SYNTAX_ERROR = _code("AS100", "syntax-error", "The file is not valid Python.", "def f(:")
INVALID_ANNOTATION = _code(
    "AS101",
    "invalid-annotation",
    "A parameter annotation is not a dtype subscripted with dims.",
    'def f(x: f32["n", 2.5]): ...',
)
UNSUPPORTED = _code(
    "AS102",
    "unsupported-construct",
    "A Python construct that cannot become a graph, such as `continue` in a symbolic loop.",
    "for row in x:\n    if row.sum() > 0:\n        continue",
)
BROADCAST = _code(
    "AS201",
    "broadcast-mismatch",
    "Two operands of an elementwise op have dims that are neither equal nor 1.",
    "x: f32[n, 3] + y: f32[4]",
)
MATMUL = _code(
    "AS202",
    "matmul-inner-dim-mismatch",
    "The contracted dims of a matrix product differ.",
    "a: f32[n, 3] @ b: f32[4, m]",
)
RANK = _code(
    "AS203",
    "rank-mismatch",
    "An operand has the wrong number of dims for the op or the place it is used.",
    "T.dot(x: f32[2, 3, 4, 5], y: f32[5]) where a matrix is required",
)
AXIS = _code(
    "AS204",
    "axis-out-of-range",
    "A reduction or shape op names an axis the operand does not have.",
    "x: f32[n, 3].sum(axis=2)",
)
RESHAPE = _code(
    "AS205",
    "reshape-size-mismatch",
    "A reshape asks for a number of elements the operand does not have.",
    "x: f32[2, 3].reshape((4, 2))",
)
DTYPE_LOSS = _code(
    "AS206",
    "dtype-loss",
    "A value would be converted to a dtype that cannot hold it exactly (float into int).",
    "w: shared int64; w = w + 0.5",
)
BRANCH = _code(
    "AS207",
    "branch-type-mismatch",
    "The two branches of an ifelse or symbolic `if` give different types.",
    "ifelse(c, x: f32[n], y: f32[n, 1])",
)
ONE_BRANCH = _code(
    "AS208",
    "defined-in-one-branch",
    "A variable is assigned in only one branch of a symbolic `if` and used afterwards.",
    "if c > 0:\n    y = x\nreturn y",
)
LOOP_CARRY = _code(
    "AS209",
    "loop-carried-type-change",
    "A variable carried through a loop changes type between iterations.",
    "for t in range(n):\n    h = h[None]",
)
RETURN_TYPE = _code(
    "AS210",
    "return-type-mismatch",
    "The returned value does not match the return annotation.",
    "def f(x: f32[n]) -> f32[()]:\n    return x",
)
SHAPE = _code(
    "AS211",
    "shape-mismatch",
    "Operands whose sizes must agree (concatenate, set_subtensor, ifelse) do not.",
    "concatenate([x: f32[2, 3], y: f32[2, 4]], axis=0)",
)
BAD_ARGUMENT = _code(
    "AS212",
    "invalid-argument",
    "An op was given a parameter or operand it does not accept.",
    "x.astype('float128')",
)
INDEX = _code(
    "AS213",
    "index-out-of-range",
    "A static index is out of range for a dim of static size, or there are too many indices.",
    "x: f32[3][5]",
)
BAD_INPUT = _code(
    "AS301",
    "bad-input",
    "A value given to a compiled function does not fit its input's type.",
    "f(np.zeros((2, 2))) for a vector input",
)
INPUT_DOWNCAST = _code(
    "AS302",
    "input-downcast",
    "A value would lose precision converting to its input's dtype.",
    "f(np.float64(0.1)) for a float32 input",
)
RUNTIME = _code(
    "AS303",
    "runtime-error",
    "An op failed while the compiled function ran (sizes known only at run time disagree).",
    "x + y with x of shape (3,) and y of shape (4,)",
)
FUNCTION_SPEC = _code(
    "AS304",
    "bad-function-spec",
    "The inputs, outputs, updates or givens given to `function` are inconsistent.",
    "function([x], y) where y depends on an input that is not listed",
)
BAD_UPDATE = _code(
    "AS305",
    "bad-update",
    "An update gives a shared variable a value of another type.",
    "updates=[(w_f32_vector, w_f32_vector.sum())]",
)
