"""Fake quantization with TensorFlow's FakeQuantWithMinMaxVars semantics, for PyTorch training.

TF's kernel (core/kernels/fake_quant_ops_functor.h) first *nudges* [min, max] so that real 0 is
exactly representable, then rounds onto the nudged grid:

    quant_min, quant_max = (1 if narrow_range else 0), 2**num_bits - 1
    scale = (max - min) / (quant_max - quant_min)
    zero_point_from_min = quant_min - min / scale
    zero_point = clamp(round_half_away(zero_point_from_min), quant_min, quant_max)
    nudged_min = (quant_min - zero_point) * scale
    nudged_max = (quant_max - zero_point) * scale
    y = floor((clamp(x, nudged_min, nudged_max) - nudged_min) / scale + 0.5) * scale + nudged_min

all in float32. A range that excludes 0 is handled by the zero-point clamp exactly as TF does
(min > 0 acts as [0, max - min], max < 0 as [min - max, 0]). The gradient is TF's straight-through
estimator: dy/dx = 1 inside [nudged_min, nudged_max] (both ends included), 0 outside; the
gradient of a learnable min (max) is the sum of the incoming gradients of the elements below
nudged_min (above nudged_max), per channel for per-channel ranges.

Degenerate ranges (max <= min after nudging would divide by zero; TF's kernel returns NaN there)
are widened to [min, min + 1e-8] so the result stays finite: every element maps to the single
representable value nearest to it.
"""

from __future__ import annotations

import torch

_EPS = 1e-8


def quant_range(num_bits: int = 8, narrow_range: bool = False) -> tuple[int, int]:
    """TF's (quant_min, quant_max) for `num_bits` in 2..16."""
    if not isinstance(num_bits, int) or not 2 <= num_bits <= 16:
        raise ValueError(f"num_bits must be an integer in 2..16, got {num_bits!r}")
    return (1 if narrow_range else 0), (1 << num_bits) - 1


def _round_half_away(x: torch.Tensor) -> torch.Tensor:
    # std::round: ties away from zero (torch.round rounds ties to even).
    return torch.sign(x) * torch.floor(torch.abs(x) + 0.5)


def nudge(min_val: torch.Tensor, max_val: torch.Tensor, num_bits: int = 8, narrow_range: bool = False):
    """TF's Nudge: (nudged_min, nudged_max, scale, zero_point) as float32 tensors shaped like min_val."""
    qmin, qmax = quant_range(num_bits, narrow_range)
    min_val = torch.as_tensor(min_val, dtype=torch.float32)
    max_val = torch.as_tensor(max_val, dtype=torch.float32)
    max_val = torch.maximum(max_val, min_val + _EPS)
    scale = (max_val - min_val) / float(qmax - qmin)
    zero_point_from_min = float(qmin) - min_val / scale
    zero_point = torch.clamp(_round_half_away(zero_point_from_min), float(qmin), float(qmax))
    nudged_min = (float(qmin) - zero_point) * scale
    nudged_max = (float(qmax) - zero_point) * scale
    return nudged_min, nudged_max, scale, zero_point


def _channel_view(t: torch.Tensor, x: torch.Tensor, axis: int | None) -> torch.Tensor:
    """Per-channel parameters shaped to broadcast along `axis` of x."""
    if axis is None:
        return t.reshape(())
    shape = [1] * x.dim()
    shape[axis] = -1
    return t.reshape(shape)


class _FakeQuantFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, min_val, max_val, num_bits, narrow_range, axis):
        nmin, nmax, scale, _ = nudge(min_val.detach(), max_val.detach(), num_bits, narrow_range)
        nmin, nmax, scale = (_channel_view(t, x, axis) for t in (nmin, nmax, scale))
        xf = x.to(torch.float32)
        clamped = torch.minimum(torch.maximum(xf, nmin), nmax)
        y = torch.floor((clamped - nmin) / scale + 0.5) * scale + nmin
        ctx.save_for_backward(xf, nmin, nmax)
        ctx.axis = axis
        ctx.min_shape, ctx.max_shape = min_val.shape, max_val.shape
        return y.to(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        x, nmin, nmax = ctx.saved_tensors
        inside = (x >= nmin) & (x <= nmax)
        grad_x = grad * inside
        below, above = grad * (x < nmin), grad * (x > nmax)
        if ctx.axis is None:
            grad_min, grad_max = below.sum(), above.sum()
        else:
            dims = [d for d in range(x.dim()) if d != ctx.axis]
            grad_min, grad_max = below.sum(dim=dims), above.sum(dim=dims)
        return grad_x, grad_min.reshape(ctx.min_shape), grad_max.reshape(ctx.max_shape), None, None, None


def fake_quant(x: torch.Tensor, min_val, max_val, num_bits: int = 8, narrow_range: bool = False,
               axis: int | None = None) -> torch.Tensor:
    """TF's FakeQuantWithMinMaxVars (axis=None) or ...PerChannel (one range per index of `axis`).

    `min_val` / `max_val` may be tensors that require grad (learnable ranges, TF's gradients)."""
    quant_range(num_bits, narrow_range)
    min_val = torch.as_tensor(min_val, dtype=torch.float32, device=x.device)
    max_val = torch.as_tensor(max_val, dtype=torch.float32, device=x.device)
    if axis is not None:
        axis = axis % x.dim()
        if min_val.numel() != x.shape[axis] or max_val.numel() != x.shape[axis]:
            raise ValueError(f"per-channel fake_quant on axis {axis} needs {x.shape[axis]} min/max values, "
                             f"got {min_val.numel()} and {max_val.numel()}")
    elif min_val.numel() != 1 or max_val.numel() != 1:
        raise ValueError("per-tensor fake_quant takes one min and one max; pass axis= for per-channel ranges")
    return _FakeQuantFunction.apply(x, min_val, max_val, num_bits, narrow_range, axis)


class FakeQuant(torch.nn.Module):
    """A fake-quantization point with its range, as TF's contrib quantize inserts them.

    mode="ema": activations; in training the range follows an exponential moving average of the
    batch min/max (decay `ema_decay`), always including 0 (TF's MovingAvgQuantize).
    mode="last_value": weights; the range is the current tensor's min/max (TF's LastValueQuantize),
    symmetric (-max|x|, max|x|) when `symmetric`, per channel on `axis` when given.
    mode="fixed": the range given at construction never changes (LOGISTIC, SOFTMAX, TANH outputs).
    For the first `quant_delay` training steps the input passes through unchanged while the range
    is still tracked; in eval mode the learned range is used as it is.
    """

    def __init__(self, num_bits: int = 8, narrow_range: bool = False, mode: str = "ema", axis: int | None = None,
                 symmetric: bool = False, ema_decay: float = 0.999, quant_delay: int = 0, init_range=None,
                 channels: int | None = None):
        super().__init__()
        if mode not in ("ema", "last_value", "fixed"):
            raise ValueError(f"mode must be 'ema', 'last_value' or 'fixed', got {mode!r}")
        if mode == "fixed" and init_range is None:
            raise ValueError("mode='fixed' needs init_range=(min, max)")
        if not 0.0 < ema_decay < 1.0:
            raise ValueError(f"ema_decay must be in (0, 1), got {ema_decay}")
        quant_range(num_bits, narrow_range)
        self.num_bits, self.narrow_range, self.mode = num_bits, narrow_range, mode
        self.axis, self.symmetric, self.ema_decay, self.quant_delay = axis, symmetric, ema_decay, int(quant_delay)
        n = channels if axis is not None and channels else 1
        lo, hi = init_range if init_range is not None else (0.0, 0.0)
        self.register_buffer("min_val", torch.full((n,), float(lo)))
        self.register_buffer("max_val", torch.full((n,), float(hi)))
        self.register_buffer("initialized", torch.tensor(init_range is not None))
        self.register_buffer("step", torch.tensor(0, dtype=torch.long))

    def extra_repr(self) -> str:
        return (f"num_bits={self.num_bits}, narrow_range={self.narrow_range}, mode={self.mode}, axis={self.axis}, "
                f"symmetric={self.symmetric}")

    def _batch_range(self, x: torch.Tensor):
        if self.axis is None:
            lo, hi = x.min().reshape(1), x.max().reshape(1)
        else:
            flat = x.detach().transpose(0, self.axis % x.dim()).reshape(x.shape[self.axis], -1)
            lo, hi = flat.min(dim=1).values, flat.max(dim=1).values
        if self.symmetric:
            bound = torch.maximum(lo.abs(), hi.abs())
            lo, hi = -bound, bound
        # 0 is always representable (TF's quantizers clamp the range to include it).
        return torch.clamp(lo, max=0.0), torch.clamp(hi, min=0.0)

    @torch.no_grad()
    def _track(self, x: torch.Tensor) -> None:
        lo, hi = self._batch_range(x.detach().to(torch.float32))
        if self.min_val.numel() != lo.numel():
            self.min_val = lo.clone()
            self.max_val = hi.clone()
        elif self.mode == "last_value" or not bool(self.initialized):
            self.min_val.copy_(lo)
            self.max_val.copy_(hi)
        else:
            d = self.ema_decay
            self.min_val.mul_(d).add_(lo * (1 - d))
            self.max_val.mul_(d).add_(hi * (1 - d))
        self.initialized.fill_(True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.mode == "last_value" or (self.training and self.mode == "ema"):
            self._track(x)
        if self.training:
            self.step += 1
            if int(self.step) <= self.quant_delay:
                return x
        if not bool(self.initialized):
            return x
        mn, mx = self.min_val, self.max_val
        if self.axis is None:
            mn, mx = mn.reshape(()), mx.reshape(())
        return fake_quant(x, mn, mx, self.num_bits, self.narrow_range, self.axis)
