"""SPACE_TO_DEPTH (TFLite kernels/space_to_depth.cc, reference SpaceToDepth), NHWC.

out[n, h, w, (i*b + j)*C + c] = in[n, h*b + i, w*b + j, c].
"""

from __future__ import annotations

import numpy as np

from eightbit.kernels.depth_to_space import SpaceDepthKernel
from eightbit.kernels.movement import fail


class SpaceToDepth(SpaceDepthKernel):
    @staticmethod
    def eval(params, x):
        b = params.b
        n, h, w, c = x.shape
        if h % b or w % b:
            raise fail(f"SPACE_TO_DEPTH: height {h} and width {w} must be divisible by block_size {b}")
        y = x.reshape(n, h // b, b, w // b, b, c).transpose(0, 1, 3, 2, 4, 5)
        return np.ascontiguousarray(y).reshape(n, h // b, w // b, b * b * c)
