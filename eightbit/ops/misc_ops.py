"""The remaining small builtins of published models (TFLite kernels/bitwise_xor.cc, right_shift.cc,
bucketize.cc, fake_quant.cc, matrix_diag.cc, matrix_set_diag.cc, segment_sum.cc,
sparse_to_dense.cc, unique.cc, bitcast.cc, embedding_lookup_sparse.cc, hashtable_lookup.cc, dilate.cc). Integer and index ops, or float only;
operator_property.cc lists none of them, so PTQ keeps them float (ptq=())."""

from __future__ import annotations

from eightbit.ops.base import OpSpec, Sig

_INT = ("int8", "uint8", "int16")
_MOVE = ("float32", "int8", "uint8", "int16")


def _sparse_to_dense(s: Sig) -> int:
    """op_version.cc: int8 / uint8 values 3, int64 values 2."""
    t = s.type(2)
    return 3 if t in ("INT8", "UINT8") else 2 if t == "INT64" else 1


ENTRIES = (
    OpSpec("BITWISE_XOR", "BitwiseXorOptions", "bitwise_xor.BitwiseXor", _INT, runtime={1: None}, newest=1, ptq=(),
           doc="Elementwise x ^ y of two integer tensors (int8 ... uint32), broadcast up to 4-D."),
    OpSpec("RIGHT_SHIFT", "RightShiftOptions", "bitwise_xor.RightShift", _INT, runtime={1: None}, newest=1, ptq=(),
           doc="Elementwise x >> y (the shift clamped to [0, bits - 1]; arithmetic for signed types)."),
    OpSpec("BUCKETIZE", "BucketizeOptions", "bucketize.Bucketize", ("float32",), runtime={1: "2.8.0"}, newest=1,
           ptq=(), doc="int32 bucket of each value: how many of the sorted float boundaries are <= it."),
    OpSpec("FAKE_QUANT", "FakeQuantOptions", "fake_quant.FakeQuant", ("float32",),
           lambda s: 2 if s.options.get("narrow_range") else 1, {1: "1.5.0", 2: "1.10.0"}, newest=2, ptq=(),
           doc="TF1 QAT fake quantization: clamp to the nudged [min, max] and round to its 2^num_bits - 1 steps."),
    OpSpec("MATRIX_DIAG", "MatrixDiagOptions", "matrix_diag.MatrixDiag", _MOVE, runtime={1: "1.14.0"}, newest=1,
           ptq=(), doc="[..., N] -> [..., N, N]: the input on each diagonal, raw 0 elsewhere."),
    OpSpec("MATRIX_SET_DIAG", "MatrixSetDiagOptions", "matrix_diag.MatrixSetDiag", _MOVE, runtime={1: "1.14.0"},
           newest=1, ptq=(), doc="The input matrices with their main diagonals replaced by input 1's values."),
    # LiteRT's BUILTIN_REF lacks it: tested in its builtin resolver (the same reference kernel).
    OpSpec("SEGMENT_SUM", "SegmentSumOptions", "segment_sum.SegmentSum", ("float32",), runtime={1: "2.2.0"},
           newest=1, ptq=(), non_float_inputs=(1,),
           doc="Sums of the rows of each segment (ids sorted, from 0, steps of 0 or 1); float32, int32."),
    OpSpec("SPARSE_TO_DENSE", "SparseToDenseOptions", "sparse_to_dense.SparseToDense", ("float32", "int8", "uint8"),
           _sparse_to_dense, {1: "1.9.0", 2: "1.14.0", 3: "1.15.0"}, newest=3, ptq=(), non_float_inputs=(0, 1),
           doc="default_value everywhere but at the indices, which get the values (the last write wins)."),
    OpSpec("UNIQUE", "UniqueOptions", "unique.Unique", _MOVE, runtime={1: "1.14.0"}, newest=1, ptq=(),
           doc="The distinct values of a 1-D tensor in order of appearance, and each element's index among them."),
    OpSpec("BITCAST", "BitcastOptions", "bitcast.Bitcast", _MOVE, runtime={1: None}, newest=1, ptq=(),
           doc="The input's bytes as the output's type (a last dimension gained or lost when the sizes differ)."),
    OpSpec("EMBEDDING_LOOKUP_SPARSE", "EmbeddingLookupSparseOptions", "embedding_lookup_sparse.EmbeddingLookupSparse",
           ("float32",), runtime={1: "1.5.0"}, newest=1, ptq=(), non_float_inputs=(0, 1, 2),
           doc="Sparse ids looked up in params and combined per row (weighted SUM, MEAN or SQRTN)."),
    OpSpec("HASHTABLE_LOOKUP", None, "hashtable_lookup.HashtableLookup", _MOVE, runtime={1: "1.5.0"}, newest=1,
           ptq=(), non_float_inputs=(0, 1),
           doc="Rows of the values whose sorted int32 keys match the lookups (zeros if missing), and uint8 hits."),
    # DilateOptions (empty) sits in BuiltinOptions2; runtime_version.cc has no entry.
    OpSpec("DILATE", None, "dilate.Dilate", _MOVE, runtime={1: None}, newest=1, ptq=(), non_float_inputs=(1,),
           doc="The input's elements spread apart by the dilation factors, padding_value between them."),
)
