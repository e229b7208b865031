"""Array views that numba does not reference-count, for the playouts' and search's hot loops.

numba counts references to every array it passes around: a call into another compiled function
and every slice take and release a reference with an atomic add on the array's counter. A
playout move makes dozens of such calls, and those atomic adds were 40% of a heavy playout's
time on 19x19 (more when two search threads share the tables, whose counters they then
fight over). A view made by unmanaged() points at the same memory but has no counter, so
numba's reference operations on it do nothing.

A function that receives views should view its arguments again: the compiler then knows that
they carry no counter and drops the reference operations, where otherwise each still tests the
counter's address (the search's expansion ran its legality loop 8x faster so).

The view does not keep its array alive. Take views only of a function's arguments (the caller
holds those until the call returns), never of arrays the function allocates itself, which
numba frees after their last use: allocate them in a wrapper and pass them in.
"""

from __future__ import annotations

from numba import types
from numba.core import cgutils
from numba.extending import intrinsic


@intrinsic
def unmanaged(typingctx, value):
    """The same array without a reference counter (see the module docstring); a tuple's arrays
    likewise (its other members as they are)."""
    if not isinstance(value, (types.Array, types.BaseTuple)):
        return None

    def codegen(context, builder, signature, args):
        return _view(context, builder, signature.args[0], args[0])

    return value(value), codegen


def _view(context, builder, value_type, value):
    if isinstance(value_type, types.BaseTuple):
        for i, member_type in enumerate(value_type):
            member = _view(context, builder, member_type, builder.extract_value(value, i))
            value = builder.insert_value(value, member, i)
        return value
    if not isinstance(value_type, types.Array):
        return value
    source = context.make_array(value_type)(context, builder, value)
    view = context.make_array(value_type)(context, builder)
    for field in ("nitems", "itemsize", "data", "shape", "strides"):
        setattr(view, field, getattr(source, field))
    view.meminfo = cgutils.get_null_value(view.meminfo.type)
    view.parent = cgutils.get_null_value(view.parent.type)
    return view._getvalue()
