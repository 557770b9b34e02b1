"""A module whose annotations are strings (PEP 563), as in any file that starts with
``from __future__ import annotations``; used by test_symbolic.py."""

from __future__ import annotations

from astsym import f32, i64  # noqa: F401 - the string annotations name them


# F821/UP037: "m" is a dim name, not a forward reference (unquoting it would break it)
def count_up(n: i64[()], x: f32["m"]):  # noqa: F821, UP037
    for _ in range(n):
        x = x + 1
    return x
