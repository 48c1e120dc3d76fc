"""Indexing and data movement the importers and real models need (TFLite kernels/mirror_pad.cc,
gather_nd.cc, scatter_nd.cc, reverse.cc, topk_v2.cc, one_hot.cc, where.cc, range.cc, cumsum.cc):
values are moved, never rescaled, so a quantized output keeps its input's scale and zero point
where operator_property.cc says so (restrict_same_input_output_scale); the others have no entry
there and PTQ keeps them float (ptq=())."""

from __future__ import annotations

from eightbit.ops.base import OpSpec, Sig, by_type, keep

_MOVE = ("float32", "int8", "uint8", "int16")


def _gather_nd(s: Sig) -> int:
    if s.t0 == "BOOL":
        return 5
    if s.t1 == "INT16":
        return 4
    return by_type({"INT16": 3, "STRING": 2})(s)


def _topk(s: Sig) -> int:
    if "INT16" in (s.t0, s.t1, s.out_type(1)):
        return 3
    return 2 if s.t0 == "INT8" else 1


def _space_batch(s: Sig) -> int:
    if s.t0 == "INT16":
        return 4
    if s.dims(0) != 4:
        return 3
    return 2 if s.t0 == "INT8" else 1


ENTRIES = (
    OpSpec("MIRROR_PAD", "MirrorPadOptions", "mirror_pad.MirrorPad", _MOVE,
           by_type({"INT16": 3, "INT8": 2}), {1: "1.13.1", 2: "2.3.0", 3: None}, newest=3,
           same_scale=True, non_float_inputs=(1,), ptq=("int8",),  # operator_property.cc: not int16
           doc="Pad with a mirror image of the input (MirrorPadOptions.mode REFLECT or SYMMETRIC)."),
    OpSpec("GATHER_ND", "GatherNdOptions", "gather_nd.GatherNd", _MOVE, _gather_nd,
           {1: "1.14.0", 2: "2.3.0", 3: "2.5.0", 4: None, 5: None}, newest=6, same_scale=True, non_float_inputs=(1,),
           doc="Slices of params at the positions in the last dimension of indices (each coordinate bounds-checked)."),
    OpSpec("SCATTER_ND", "ScatterNdOptions", "scatter_nd.ScatterNd", ("float32", "int8", "uint8"), keep,
           {1: "2.1.0"}, newest=1, same_scale_inputs=(1,), non_float_inputs=(0, 2), ptq=("int8",),
           doc="Zeros of the given shape plus the updates at the indices (repeated indices add up)."),
    OpSpec("REVERSE_V2", "ReverseV2Options", "reverse.ReverseV2", _MOVE, by_type({"INT8": 3, "BOOL": 2}),
           {1: "1.14.0", 2: "2.2.0", 3: "2.5.0"}, newest=4, same_scale=True, non_float_inputs=(1,),
           doc="The input with the axes of input 1 reversed."),
    OpSpec("TOPK_V2", "TopKV2Options", "topk_v2.TopKV2", _MOVE, _topk, {1: "1.7.0", 2: "1.14.0", 3: None},
           newest=3, non_float_inputs=(1,), ptq=(),
           doc="The k largest values of each row, largest first (ties: lower index first), and their indices."),
    OpSpec("ONE_HOT", "OneHotOptions", "one_hot.OneHot", ("float32", "int8", "uint8"), keep, {1: "1.11.0"},
           newest=1, non_float_inputs=(0, 1), ptq=(),
           doc="on_value where the position along OneHotOptions.axis equals the index, off_value elsewhere."),
    OpSpec("WHERE", "WhereOptions", "where.Where", ("float32",), lambda s: 1 if s.t0 == "BOOL" else 2,
           {1: "1.14.0", 2: "2.8.0"}, newest=2, ptq=(),
           doc="int64 coordinates of the true (non-zero) elements; the output's length depends on the data."),
    # BUILTIN_REF registers RANGE v1 only; v2 (int64) runs in LiteRT's builtin resolver.
    OpSpec("RANGE", "RangeOptions", "range.Range", ("float32",), by_type({"INT64": 2}), {1: "1.13.0", 2: None},
           newest=2, ptq=(), doc="start, start + delta, ... below limit (int32, float32, int64 scalars)."),
    OpSpec("CUMSUM", "CumsumOptions", "cumsum.Cumsum", ("float32",), keep, {1: "2.4.0"}, newest=1,
           non_float_inputs=(1,), doc="Running sums along an axis (CumsumOptions exclusive, reverse)."),
    OpSpec("SPACE_TO_BATCH_ND", "SpaceToBatchNDOptions", "space_to_batch_nd.SpaceToBatchNd", _MOVE, _space_batch,
           {1: "1.6.0", 2: "1.14.0", 3: "2.3.0", 4: None}, newest=4, same_scale=True, non_float_inputs=(1, 2),
           ptq=("int8",),  # operator_property.cc: not int16
           doc="Pad the spatial dimensions and move blocks of them into the batch (the output zero point pads)."),
    OpSpec("BATCH_TO_SPACE_ND", "BatchToSpaceNDOptions", "space_to_batch_nd.BatchToSpaceNd", _MOVE, _space_batch,
           {1: "1.6.0", 2: "1.14.0", 3: "2.3.0", 4: None}, newest=4, same_scale=True, non_float_inputs=(1, 2),
           ptq=("int8",),  # operator_property.cc: not int16
           doc="Move blocks of the batch back into the spatial dimensions, then crop."),
)

ENTRIES += (
    # operator_property.cc does not list it: PTQ keeps it float.
    OpSpec("DYNAMIC_UPDATE_SLICE", "DynamicUpdateSliceOptions", "dynamic_update_slice.DynamicUpdateSlice",
           ("float32", "int8", "int16"), lambda s: 2 if s.type(2) == "INT64" else 1, {1: "2.9.0", 2: None},
           newest=6, non_float_inputs=(2,), ptq=(),
           doc="The operand with the update written at the start indices (clamped so that it fits)."),
)

# Sequence and segment ops of RNN and embedding models; operator_property.cc lists none of them.
ENTRIES += (
    OpSpec("REVERSE_SEQUENCE", "ReverseSequenceOptions", "reverse_sequence.ReverseSequence",
           ("float32", "uint8", "int16"), keep,
           {1: "1.14.0"}, newest=1, non_float_inputs=(1,), ptq=(),
           doc="Reverse the first seq_lengths[b] elements along seq_dim for each b along batch_dim."),
    OpSpec("EMBEDDING_LOOKUP", None, "embedding_lookup.EmbeddingLookup", ("float32", "int8", "hybrid"), keep,
           {1: "1.13.0", 2: "1.14.0", 3: "1.14.0"}, newest=5, non_float_inputs=(0,), ptq=(),
           doc="Rows of the value tensor at the lookup ids; int8 / uint8 rows to float32 are dequantized."),
) + tuple(
    OpSpec(f"UNSORTED_SEGMENT_{kind.upper()}", f"UnsortedSegment{kind}Options", f"unsorted_segment.UnsortedSegment{kind}",
           ("float32",), keep, {1: "2.11.0" if kind == "Min" else "2.10.0"}, newest=1, non_float_inputs=(1, 2),
           doc=f"The {kind.lower()} of the data slices of each segment id (float32, int32).")
    for kind in ("Sum", "Prod", "Max", "Min")
)
