"""The modules `prepare` inserts: activation quantizers and conv/linear fused with BatchNorm and
activation (Jacob et al. 2018, section 3.2).

Training runs TF's FakeQuantWithMinMaxVars (eightbit.qat.fake_quant). Evaluation runs the same
nudged parameters through `torch.fake_quantize_per_tensor_affine` / `..._per_channel_affine`: that
is what `convert` exports, and what the PyTorch importer turns into QUANTIZE / DEQUANTIZE with
exactly these scales and zero points, so the eval-mode forward *is* the exported model's math.
(The two differ only at exact ties: torch rounds half to even, TF's kernel floor(x + 0.5).)
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from eightbit.qat.fake_quant import FakeQuant, fake_quant, nudge, quant_range

_EPS = 1e-8


def torch_qparams(min_val, max_val, num_bits: int, narrow_range: bool, signed: bool):
    """TF's nudged (scale, zero_point, quant_min, quant_max) in the integer type TFLite stores:
    signed (int8 / int16: TF's unsigned grid shifted by 2**(bits-1)) or unsigned (uint8)."""
    qmin, qmax = quant_range(num_bits, narrow_range)
    _, _, scale, zp = nudge(min_val, max_val, num_bits, narrow_range)
    offset = 1 << (num_bits - 1) if signed else 0
    return scale, (zp - offset).to(torch.int32), qmin - offset, qmax - offset


class ActQuant(FakeQuant):
    """An activation quantization point (EMA range, or a fixed one); exportable in eval mode."""

    def __init__(self, num_bits: int = 8, signed: bool = True, **kw):
        if num_bits == 16:
            kw.setdefault("symmetric", True)  # int16 activations have zero point 0 in TFLite
        super().__init__(num_bits=num_bits, **kw)
        self.signed = signed
        self.frozen = None  # (scale, zero_point, qmin, qmax) fixed for export (see freeze)

    def freeze(self) -> None:
        """Fix the eval-mode parameters as constants (torch.export cannot branch on buffers)."""
        if not bool(self.initialized):
            raise ValueError("a quantization point never saw data: train the model before converting")
        scale, zp, qmin, qmax = self.qparams()
        self.frozen = (float(scale), int(zp), qmin, qmax)

    def qparams(self):
        return torch_qparams(self.min_val.reshape(()), self.max_val.reshape(()), self.num_bits,
                             self.narrow_range, self.signed)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training:
            self.frozen = None
            return super().forward(x)
        if self.frozen is not None:
            return torch.fake_quantize_per_tensor_affine(x, *self.frozen)
        if not bool(self.initialized):
            raise RuntimeError("a QAT activation range was never observed: train (or run in train mode) "
                               "before evaluating or converting")
        scale, zp, qmin, qmax = self.qparams()
        # TFLite's QUANTIZE and requantizing kernels round half away from zero (torch's op, used
        # for the export, rounds half to even; the kernels then round the TFLite way).
        v = x / scale
        q = torch.clamp(torch.sign(v) * torch.floor(torch.abs(v) + 0.5) + zp, qmin, qmax)
        return (q - zp) * scale


class InputStatsQuant(ActQuant):
    """A model input described by mean / std (TF1's quantized_input_stats, TOCO's --mean_values /
    --std_dev_values): real = (q - mean) / std on the 8-bit grid, fixed rather than learned, with
    exactly the scale (float32(1 / std)) and zero point (mean rounded) the converter writes."""

    def __init__(self, mean: float, std: float, signed: bool, quant_delay: int = 0):
        from eightbit.converter import stats_params

        scale, zp = stats_params(mean, std, "INT8" if signed else "UINT8")
        offset = 128 if signed else 0
        lo, hi = (0 - (zp + offset)) * scale, (255 - (zp + offset)) * scale
        super().__init__(num_bits=8, signed=signed, mode="fixed", init_range=(lo, hi), quant_delay=quant_delay)
        self.stats = (scale, zp)

    def extra_repr(self) -> str:
        return f"scale={self.stats[0]:.6g}, zero_point={self.stats[1]}, signed={self.signed}"

    def qparams(self):
        scale, zp = self.stats
        qmin, qmax = (-128, 127) if self.signed else (0, 255)
        return torch.tensor(scale, dtype=torch.float32), torch.tensor(zp, dtype=torch.int32), qmin, qmax


class SharedQuant(torch.nn.Module):
    """Rounds onto another quantizer's grid (AVERAGE_POOL_2D / MEAN keep their input's parameters
    in TFLite, so their output is requantized to the input's scale and zero point)."""

    def __init__(self, source: ActQuant, rounding: str = "centered", count: int = 1):
        super().__init__()
        if rounding not in ("centered", "raw"):
            raise ValueError(f"rounding must be 'centered' or 'raw', got {rounding!r}")
        self.source = [source]  # a list: not a submodule of its own (one set of buffers)
        self.rounding, self.count = rounding, int(count)  # count: elements averaged per output

    def _tflite_average(self, x, scale, zp, qmin, qmax):
        """Rounding as TFLite's integer kernels do it. MEAN multiplies the centred sum by the
        quantized multiplier of 1 / n (MultiplyByQuantizedMultiplier: two roundings, so e.g.
        7/16 rounds up); AVERAGE_POOL_2D rounds the raw sum / n half away from zero. The average of
        grid values is a fraction with a small denominator: snap it first so float error cannot
        move a tie."""
        v = torch.round(x / scale * 4096.0) / 4096.0
        if self.rounding == "centered" and self.count > 1:
            total = torch.round(v * self.count).to(torch.int64)
            q = _multiply_by_quantized_multiplier(total, 1.0 / self.count).to(x.dtype) + zp
        else:
            if self.rounding == "raw":
                v = v + zp
            q = torch.sign(v) * torch.floor(torch.abs(v) + 0.5)
            if self.rounding == "centered":
                q = q + zp
        return (torch.clamp(q, qmin, qmax) - zp) * scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        src = self.source[0]
        if not self.training and src.frozen is not None:
            return torch.fake_quantize_per_tensor_affine(x, *src.frozen)
        if not bool(src.initialized) or (self.training and int(src.step) <= src.quant_delay):
            return x
        if self.training:
            return fake_quant(x, src.min_val.reshape(()), src.max_val.reshape(()), src.num_bits, src.narrow_range)
        scale, zp, qmin, qmax = src.qparams()
        return self._tflite_average(x, scale, zp.to(torch.float32), qmin, qmax)


def _quantized_multiplier(real: float) -> tuple[int, int]:
    """TFLite's QuantizeMultiplier: a Q31 mantissa and a power-of-two exponent."""
    mantissa, exponent = math.frexp(real)
    m = round(mantissa * (1 << 31))
    if m == 1 << 31:
        m, exponent = m // 2, exponent + 1
    return m, exponent


def _multiply_by_quantized_multiplier(x: torch.Tensor, real, shape=None) -> torch.Tensor:
    """TFLite's MultiplyByQuantizedMultiplier(x, QuantizeMultiplier(real)) on int64 tensors: a
    rounding doubling high multiply by a Q31 mantissa, then a rounding right shift (two
    roundings). `real`: one float, or one per channel laid out as `shape` for broadcasting."""
    reals = [real] if isinstance(real, float) else list(real)
    pairs = [_quantized_multiplier(r) for r in reals]
    shape = shape if shape is not None else ([] if isinstance(real, float) else [-1])
    m = torch.tensor([p[0] for p in pairs], dtype=torch.int64).reshape(shape)
    left = torch.tensor([max(p[1], 0) for p in pairs], dtype=torch.int64).reshape(shape)
    right = torch.tensor([max(-p[1], 0) for p in pairs], dtype=torch.int64).reshape(shape)
    prod = x * torch.bitwise_left_shift(torch.ones_like(left), left) * m
    nudge = torch.where(prod >= 0, torch.full_like(prod, 1 << 30), torch.full_like(prod, 1 - (1 << 30)))
    high = torch.div(prod + nudge, 1 << 31, rounding_mode="trunc")
    mask = torch.bitwise_left_shift(torch.ones_like(right), right) - 1
    remainder = high & mask
    threshold = (mask >> 1) + (high < 0).to(torch.int64)
    return torch.bitwise_right_shift(high, right) + (remainder > threshold).to(torch.int64)


def _reduced_multiplier(real: float) -> float:
    """The real multiplier TFLite's int64 MultiplyByQuantizedMultiplier applies for `real`."""
    mantissa, exponent = math.frexp(real)
    m = round(mantissa * (1 << 31))
    if m == 1 << 31:
        m, exponent = m // 2, exponent + 1
    reduced = (m + (1 << 15)) >> 16 if m < 0x7FFF0000 else 0x7FFF
    return reduced * 2.0 ** (exponent - 15)


def _per_channel_bound(w: torch.Tensor) -> torch.Tensor:
    return torch.clamp(w.detach().abs().flatten(1).amax(dim=1), min=_EPS)


class FusedLayer(torch.nn.Module):
    """conv / linear + optional BatchNorm + optional ReLU / ReLU6, with per-channel symmetric
    narrow-range weight quantization of the folded weights.

    Training with BatchNorm (Jacob et al. 3.2): weights are folded with the *running* standard
    deviation (so the quantized weights do not jitter with the batch) and the output is corrected
    by running_std / batch_std, which gives batch-normalized outputs; running statistics are
    updated. After `freeze_bn_delay` steps (and in eval) the running statistics are used and the
    correction is 1: the layer is exactly conv(x, Q(w * gamma / std)) + folded bias.
    """

    def __init__(self, layer, bn=None, activation: str | None = None, weight_bits: int = 8,
                 quant_delay: int = 0, freeze_bn_delay: int | None = None, weight_quant: bool = True,
                 per_channel: bool = True, signed: bool = True):
        super().__init__()
        quant_range(weight_bits, True)
        self.layer, self.bn, self.activation = layer, bn, activation
        self.weight_bits, self.quant_delay, self.freeze_bn_delay = weight_bits, int(quant_delay), freeze_bn_delay
        self.weight_quant, self.per_channel, self.signed = weight_quant, per_channel, signed
        self.register_buffer("step", torch.tensor(0, dtype=torch.long))
        self.io_quant = None  # [input ActQuant, output ActQuant] when both are known (set by prepare)

    def extra_repr(self) -> str:
        return f"activation={self.activation}, weight_bits={self.weight_bits}, per_channel={self.per_channel}"

    # ---- weights --------------------------------------------------------------------------------
    def _weight_range(self, w):
        if self.per_channel:
            b = _per_channel_bound(w)
            return -b, b
        lo = torch.clamp(w.detach().min(), max=0.0).reshape(1)
        hi = torch.clamp(w.detach().max(), min=0.0).reshape(1)
        return lo, torch.maximum(hi, lo + _EPS)

    def quantize_weight(self, w: torch.Tensor) -> torch.Tensor:
        if not self.weight_quant or (self.training and int(self.step) <= self.quant_delay):
            return w
        lo, hi = self._weight_range(w)
        narrow = True  # symmetric int8 weights use [-127, 127]; TF1's per-tensor weights 1..255 (narrow_range=True)
        if self.training:
            return fake_quant(w, lo if self.per_channel else lo.reshape(()), hi if self.per_channel else hi.reshape(()),
                              self.weight_bits, narrow, axis=0 if self.per_channel else None)
        scale, zp, qmin, qmax = torch_qparams(lo, hi, self.weight_bits, narrow, self.signed)
        if self.per_channel:
            return torch.fake_quantize_per_channel_affine(w, scale, zp, 0, qmin, qmax)
        return torch.fake_quantize_per_tensor_affine(w, scale.reshape(()), zp.reshape(()), qmin, qmax)

    # ---- forward --------------------------------------------------------------------------------
    def _linear(self, x, w, b=None):
        if isinstance(self.layer, torch.nn.Linear):
            return F.linear(x, w, b)
        return self.layer._conv_forward(x, w, b)

    def _axis(self) -> int:
        return -1 if isinstance(self.layer, torch.nn.Linear) else 1

    def _channel(self, t, like):
        shape = [1] * like.dim()
        shape[self._axis()] = -1
        return t.reshape(shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training:
            self.step += 1
        w, bias = self.layer.weight, self.layer.bias
        if self.bn is None:
            y = self._linear(x, self.quantize_weight(w), self._integer_bias(bias, w))
        else:
            y = self._bn_forward(x, w, bias)
        simulate = (not self.training and self.weight_quant and self.io_quant is not None
                    and self.io_quant[1].frozen is None)  # simulated only: the exported kernel does it itself
        if simulate and self.io_quant[1].num_bits == 16:
            y = y * self._channel(self._int16_multiplier_error(w), y)
        elif simulate:
            y = self._requantized(y, w)
        if self.activation == "relu":
            y = F.relu(y)
        elif self.activation == "relu6":
            y = F.hardtanh(y, 0.0, 6.0)
        return y

    def folded_weight(self, w):
        if self.bn is None:
            return w
        bn = self.bn
        gamma = bn.weight if bn.affine else torch.ones_like(bn.running_var)
        return w * (gamma / torch.sqrt(bn.running_var + bn.eps)).reshape([-1] + [1] * (w.dim() - 1))

    def _integer_bias(self, bias, folded_w):
        """Eval only: the bias as the exported kernel adds it, rounded (half away from zero) onto
        its int32 / int64 grid input_scale * weight_scale. Near an output rounding tie this
        decides the integer result, most visibly with per-tensor (tf1_uint8) weight scales. Not
        applied while exporting (frozen quantizers): the converter does the same rounding."""
        if (self.training or bias is None or not self.weight_quant or self.io_quant is None
                or self.io_quant[0].frozen is not None):
            return bias
        lo, hi = self._weight_range(folded_w.detach())
        w_scale = torch_qparams(lo, hi, self.weight_bits, True, self.signed)[0].reshape(-1)
        step = (self.io_quant[0].qparams()[0].double() * w_scale.double()).to(bias.dtype)
        v = bias / step
        return torch.sign(v) * torch.floor(torch.abs(v) + 0.5) * step

    def _requantized(self, y, w):
        """The 8-bit kernels' output stage: the integer accumulator (y on the grid input_scale *
        weight_scale) times the quantized multiplier input_scale * weight_scale / output_scale
        with MultiplyByQuantizedMultiplier's two roundings, which near a tie can give the other
        integer than rounding y / output_scale once. Returns that integer times output_scale."""
        lo, hi = self._weight_range(self.folded_weight(w).detach())
        w_scale = torch_qparams(lo, hi, self.weight_bits, True, self.signed)[0].reshape(-1)
        s_in, s_out = self.io_quant[0].qparams()[0], self.io_quant[1].qparams()[0]
        if self.signed:  # int8 kernels: the product and the ratio in double
            product = s_in.double() * w_scale.double()
            reals = (product / s_out.double()).tolist()
        else:  # legacy uint8 (GetQuantizedConvolutionMultipler): the product in float32
            product = (s_in * w_scale).double()
            reals = (product / s_out.double()).tolist()
        step = self._channel(product, y)
        acc = torch.round(y.double() / step).to(torch.int64)
        shape = [1] * y.dim()
        shape[self._axis()] = -1
        out = _multiply_by_quantized_multiplier(acc, reals if len(reals) > 1 else reals[0],
                                                shape if len(reals) > 1 else None)
        return (out.double() * s_out.double()).to(y.dtype)

    def _int16_multiplier_error(self, w):
        """int16x8 kernels requantize with TFLite's 64-bit MultiplyByQuantizedMultiplier, which
        first rounds the Q31 multiplier to 16 bits: the output is scaled by reduced / exact."""
        lo, hi = self._weight_range(self.folded_weight(w).detach())
        w_scale = torch_qparams(lo, hi, self.weight_bits, True, self.signed)[0]
        s_in, s_out = self.io_quant[0].qparams()[0], self.io_quant[1].qparams()[0]
        exact = (s_in.double() * w_scale.double() / s_out.double()).tolist()
        return torch.tensor([_reduced_multiplier(r) / r if r > 0 else 1.0 for r in exact], dtype=torch.float32)

    def _bn_forward(self, x, w, bias):
        bn = self.bn
        running_std = torch.sqrt(bn.running_var + bn.eps)
        gamma = bn.weight if bn.affine else torch.ones_like(running_std)
        beta = bn.bias if bn.affine else torch.zeros_like(running_std)
        factor = gamma / running_std
        wq = self.quantize_weight(w * factor.reshape([-1] + [1] * (w.dim() - 1)))
        conv_bias = bias if bias is not None else torch.zeros_like(running_std)
        if not self.training or (self.freeze_bn_delay is not None and int(self.step) > self.freeze_bn_delay):
            folded = w * factor.reshape([-1] + [1] * (w.dim() - 1))
            return self._linear(x, wq, self._integer_bias(beta + (conv_bias - bn.running_mean) * factor, folded))
        # batch statistics of the unfolded output (the quantized-weight conv divided by the factor)
        y = self._linear(x, wq)
        y = y / self._channel(factor, y)
        axis = self._axis() % y.dim()
        dims = [d for d in range(y.dim()) if d != axis]
        mean, var = y.mean(dim=dims), y.var(dim=dims, unbiased=False)
        with torch.no_grad():
            n = y.numel() / y.shape[axis]
            m = bn.momentum if bn.momentum is not None else 0.1
            bn.running_mean.mul_(1 - m).add_((mean + conv_bias).detach() * m)
            bn.running_var.mul_(1 - m).add_(var.detach() * (n / max(n - 1, 1)) * m)
            bn.num_batches_tracked += 1
        batch_std = torch.sqrt(var + bn.eps)
        return (y - self._channel(mean, y)) * self._channel(gamma / batch_std, y) + self._channel(beta, y)
