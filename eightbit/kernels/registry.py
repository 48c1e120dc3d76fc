"""The kernel of every op of the op table (eightbit/ops/table.py).

Each table entry names its kernel as "module.Class"; the modules are imported here, explicitly,
and every entry is resolved once at import: a missing module or class is an error at import, not
at run time. `get_kernel` / `get_spec` are the lookups the rest of eightbit uses.
"""

from __future__ import annotations

from eightbit.kernels import (
    activations,
    add,
    add_n,
    arg_min_max,
    atan2,
    batch_matmul,
    bidirectional_sequence_lstm,
    bitcast,
    bitwise_xor,
    broadcast_args,
    broadcast_to,
    bucketize,
    cast,
    ceil,
    comparisons,
    complex_support,
    concatenation,
    control_flow,
    conv,
    conv3d,
    conv3d_transpose,
    cumsum,
    densify,
    depth_to_space,
    depthwise_conv,
    dequantize,
    dilate,
    div,
    dynamic_update_slice,
    elementwise,
    elementwise_trig,
    embedding_lookup,
    embedding_lookup_sparse,
    exp,
    expand_dims,
    fake_quant,
    fill,
    floor,
    floor_div,
    floor_mod,
    fully_connected,
    gather,
    gather_nd,
    gelu,
    hashtable_lookup,
    l2_pool,
    l2norm,
    local_response_norm,
    logical,
    lstm,
    matrix_diag,
    maximum_minimum,
    mirror_pad,
    mul,
    neg,
    non_max_suppression,
    one_hot,
    pack,
    pad,
    pooling,
    pow,
    quantize,
    range,
    rank,
    reduce,
    reduce_prod,
    relu_0_to_1,
    reshape,
    resize_bilinear,
    resize_nearest_neighbor,
    reverse,
    reverse_sequence,
    rfft2d,
    rnn,
    round,
    scatter_nd,
    segment_sum,
    select,
    shape,
    sign,
    slice,
    space_to_batch_nd,
    space_to_depth,
    sparse_to_dense,
    split,
    split_v,
    squared_difference,
    squeeze,
    strided_slice,
    sub,
    svdf,
    tile,
    topk_v2,
    transpose,
    transpose_conv,
    unidirectional_sequence_lstm,
    unique,
    unpack,
    unsorted_segment,
    variables,
    where,
    zeros_like,
)
from eightbit.ops.table import OP_NAMES, TABLE

MODULES = (
    activations, add, arg_min_max, batch_matmul, broadcast_to, cast, comparisons, concatenation, conv, densify,
    depth_to_space, depthwise_conv, dequantize, div, elementwise, exp, expand_dims, fill, fully_connected, gather,
    gelu, l2norm, maximum_minimum, mul, neg, pack, pad, pooling, quantize, reduce, reshape, resize_bilinear,
    resize_nearest_neighbor, select, shape, slice, space_to_depth, split, split_v, squared_difference, squeeze,
    strided_slice, sub, tile, transpose, transpose_conv, unpack, zeros_like,
)
# Kernels added for real models and the importers (issue 7).
MODULES += (
    ceil, cumsum, elementwise_trig, floor, floor_div, floor_mod, gather_nd, local_response_norm,
    logical, mirror_pad, one_hot, pow, range, reduce_prod, relu_0_to_1, reverse,
    round, scatter_nd, sign, space_to_batch_nd, topk_v2, unidirectional_sequence_lstm, where,
    add_n, atan2, broadcast_args, dynamic_update_slice, rank, embedding_lookup, reverse_sequence, unsorted_segment,
)
# Recurrent ops (issue 7).
MODULES += (svdf,)
MODULES += (rnn, lstm)
MODULES += (bidirectional_sequence_lstm,)
# Several subgraphs and resource variables: kernels bound to the interpreter's session (issue 7).
MODULES += (control_flow, variables)
# Audio front ends, detection and the remaining builtins of published models (issue 7).
MODULES += (complex_support, rfft2d)
MODULES += (l2_pool, non_max_suppression)
MODULES += (conv3d, conv3d_transpose)
MODULES += (embedding_lookup_sparse, hashtable_lookup)
MODULES += (dilate,)
MODULES += (bitcast, bitwise_xor, bucketize, fake_quant, matrix_diag, segment_sum, sparse_to_dense, unique)


def _resolve() -> dict:
    by_module = {m.__name__.rpartition(".")[2]: m for m in MODULES}
    kernels = {}
    for name, spec in TABLE.items():
        module = by_module.get(spec.kernel_module)
        cls = getattr(module, spec.kernel_class, None) if module is not None else None
        if cls is None:
            raise ImportError(f"op table: {name}'s kernel {spec.kernel!r} is not in kernels/registry.py MODULES")
        kernels[name] = cls
    return kernels


KERNELS: dict = _resolve()
# (name, module, class) per op, in table order: the shape the old registry list had.
REGISTRY = [(name, spec.kernel_module, spec.kernel_class) for name, spec in TABLE.items()]


def get_kernel(op_name: str):
    """The kernel class for a builtin, or None when eightbit has none."""
    return KERNELS.get(op_name)


def get_spec(op_name: str):
    """The op table entry (OpSpec) of a builtin we know, or None."""
    return TABLE.get(op_name)


__all__ = ["KERNELS", "OP_NAMES", "REGISTRY", "get_kernel", "get_spec"]
