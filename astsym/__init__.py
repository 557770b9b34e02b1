"""astsym: a symbolic tensor compiler for Python, with Theano's API.

>>> import astsym as theano
>>> import astsym.tensor as T
>>> x = T.dscalar("x")
>>> f = theano.function([x], x * 2)
>>> f(3)
array(6.)
"""

from astsym import gradient, ifelse, printing, scan_module, tensor
from astsym.config import config
from astsym.graph.basic import Apply, Constant, Variable
from astsym.graph.grad import grad
from astsym.graph.gradient import Lop, Rop
from astsym.graph.op import Op
from astsym.graph.ops import dot
from astsym.graph.scan import foldl, foldr, map, reduce, scan, until
from astsym.graph.shared import SharedVariable, shared
from astsym.graph.type import TensorType
from astsym.graph.walk import clone_replace
from astsym.parse.annotations import (
    bool_,
    c64,
    c128,
    f16,
    f32,
    f64,
    i8,
    i16,
    i32,
    i64,
    u8,
    u16,
    u32,
    u64,
)
from astsym.printing import pp
from astsym.runtime.device import GpuUnavailable
from astsym.runtime.function import Function, function
from astsym.runtime.io import In, Out
from astsym.runtime.mode import Mode
from astsym.runtime.symbolic import SymbolicFunction, symbolic
from astsym.typecheck import AstsymError, Diagnostic, SourceSpan

__version__ = "0.1.0"
clone = clone_replace
