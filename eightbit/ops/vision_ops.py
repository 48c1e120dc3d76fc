"""Vision and detection builtins of published models (TFLite kernels/pooling.cc L2, and
non_max_suppression.cc, conv3d.cc, conv3d_transpose.cc). Float only in LiteRT 2.3.0; operator_property.cc lists none of them,
so PTQ keeps them float (ptq=())."""

from __future__ import annotations

from eightbit.ops.base import OpSpec

ENTRIES = (
    OpSpec("L2_POOL_2D", "Pool2DOptions", "l2_pool.L2Pool2D", ("float32",), runtime={1: "1.5.0"}, newest=1, ptq=(),
           doc="sqrt of the mean of the squares of each pooling window's valid taps (float32), then the activation."),
    OpSpec("NON_MAX_SUPPRESSION_V4", "NonMaxSuppressionV4Options", "non_max_suppression.NonMaxSuppressionV4",
           ("float32",), runtime={1: "2.1.0"}, newest=1, ptq=(), non_float_inputs=(2,),
           doc="Greedy NMS of one class: indices of the kept boxes (zero-padded to max_output_size) and their count."),
    OpSpec("NON_MAX_SUPPRESSION_V5", "NonMaxSuppressionV5Options", "non_max_suppression.NonMaxSuppressionV5",
           ("float32",), runtime={1: "2.1.0"}, newest=1, ptq=(), non_float_inputs=(2,),
           doc="Soft-NMS (Gaussian, soft_nms_sigma) of one class: kept indices, their decayed scores, their count."),
    OpSpec("CONV_3D", "Conv3DOptions", "conv3d.Conv3D", ("float32",), runtime={1: "2.5.0"}, newest=1, ptq=(),
           doc="3-D convolution (NDHWC input, [KD, KH, KW, Cin, Cout] filter, optional bias), float32 only."),
    OpSpec("CONV_3D_TRANSPOSE", "Conv3DOptions", "conv3d_transpose.Conv3DTranspose", ("float32",),
           runtime={1: "2.6.0"}, newest=1, ptq=(), non_float_inputs=(0,),
           doc="Transposed 3-D convolution to the given output shape ([KD, KH, KW, Cout, Cin] filter), float32 only."),
)
