"""Atomic operations on numpy array elements, for numba code that threads run on one tree.

numba has no atomics on the CPU, so these are intrinsics that emit LLVM's atomic instructions
(a lock-prefixed add or compare-and-swap on x86, the exclusive pairs on ARM):

    atomic_add(a, i, v)        a[i] += v; returns the old value (integer or float arrays)
    atomic_cas(a, i, old, new) a[i] = new if a[i] == old; returns what a[i] was (integers)
    atomic_load(a, i)          a[i], no read of it moved before this one (acquire)
    atomic_store(a, i, v)      a[i] = v, no write before it moved after it (release)

Publishing follows the usual pattern: write the data with plain stores, then atomic_store the
flag that makes it reachable; a reader atomic_loads the flag before it reads the data.
"""

from __future__ import annotations

from numba import types
from numba.core import cgutils
from numba.extending import intrinsic


def _pointer(context, builder, array_type, array, index):
    array = context.make_array(array_type)(context, builder, array)
    return cgutils.get_item_pointer(context, builder, array_type, array, [index],
                                    wraparound=False)


def _alignment(context, array_type) -> int:
    return context.get_abi_sizeof(context.get_data_type(array_type.dtype))


@intrinsic
def atomic_add(typingctx, array, index, value):
    def codegen(context, builder, signature, args):
        array_type = signature.args[0]
        pointer = _pointer(context, builder, array_type, args[0], args[1])
        value = context.cast(builder, args[2], signature.args[2], array_type.dtype)
        op = "fadd" if isinstance(array_type.dtype, types.Float) else "add"
        return builder.atomic_rmw(op, pointer, value, "monotonic")

    return array.dtype(array, index, value), codegen


@intrinsic
def atomic_cas(typingctx, array, index, expected, new):
    def codegen(context, builder, signature, args):
        array_type = signature.args[0]
        pointer = _pointer(context, builder, array_type, args[0], args[1])
        dtype = array_type.dtype
        expected = context.cast(builder, args[2], signature.args[2], dtype)
        new = context.cast(builder, args[3], signature.args[3], dtype)
        pair = builder.cmpxchg(pointer, expected, new, "acq_rel", "monotonic")
        return builder.extract_value(pair, 0)

    if not isinstance(array.dtype, types.Integer):
        return None
    return array.dtype(array, index, expected, new), codegen


@intrinsic
def atomic_load(typingctx, array, index):
    def codegen(context, builder, signature, args):
        array_type = signature.args[0]
        pointer = _pointer(context, builder, array_type, args[0], args[1])
        return builder.load_atomic(pointer, "acquire", _alignment(context, array_type))

    return array.dtype(array, index), codegen


@intrinsic
def atomic_store(typingctx, array, index, value):
    def codegen(context, builder, signature, args):
        array_type = signature.args[0]
        pointer = _pointer(context, builder, array_type, args[0], args[1])
        value = context.cast(builder, args[2], signature.args[2], array_type.dtype)
        builder.store_atomic(value, pointer, "release", _alignment(context, array_type))
        return context.get_dummy_value()

    return types.void(array, index, value), codegen
