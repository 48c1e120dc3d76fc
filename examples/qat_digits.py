"""Float vs post-training quantization vs quantization-aware training on the bundled digits.

    python examples/qat_digits.py            # about a minute on one CPU core

Trains a small CNN (conv+BN+ReLU, max pool, conv+BN+ReLU6, global average pool, linear) in
PyTorch on the 100 labelled training digits of eightbit/data/digits.npz plus the 100 calibration
digits (labelled by the bundled float TFLite model), then measures held-out accuracy (200 digits)
of every exported .tflite in LiteRT's reference kernels:
- float32 (TFLiteConverter.from_torch),
- PTQ int8 with minmax and with the best of eightbit's calibration methods,
- QAT int8 (eightbit.qat.prepare -> fine-tune -> eightbit.qat.convert),
and the same PTQ / QAT comparison with 8, 6, 4 and 2-bit weights (int8 containers).
"""

from __future__ import annotations

import pathlib
import time
import warnings

import numpy as np
import torch
from torch import nn

import eightbit
from eightbit.converter import Optimize, TFLiteConverter
from eightbit.qat import QATConfig, convert, prepare

QAT_LR = 5e-4
WIDTH = 8
DATA = pathlib.Path(eightbit.__file__).parent / "data"


def load_digits():
    with np.load(DATA / "digits.npz") as d:
        x, y, held, calib = d["eval_0"][:, 0], d["labels"], d["heldout"], d["calib_0"][:, 0]
    it = eightbit.Interpreter(model_path=str(DATA / "digits_cnn_float32.tflite"))
    it.allocate_tensors()
    calib_y = []
    for c in calib:  # label the calibration digits with the bundled float model
        it.set_tensor(it.get_input_details()[0]["index"], c[None])
        it.invoke()
        calib_y.append(int(it.get_tensor(it.get_output_details()[0]["index"]).argmax()))
    nchw = lambda a: torch.from_numpy(a.transpose(0, 3, 1, 2).copy())  # noqa: E731
    xtr = torch.cat([nchw(x[~held]), nchw(calib)])
    ytr = torch.cat([torch.from_numpy(y[~held]), torch.tensor(calib_y)])
    return xtr, ytr, nchw(x[held]), torch.from_numpy(y[held]), nchw(calib)


class DigitsCNN(nn.Module):
    def __init__(self, width=WIDTH):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(width, 2 * width, 3, padding=1), nn.BatchNorm2d(2 * width), nn.ReLU6(),
            nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.fc = nn.Linear(2 * width, 10)

    def forward(self, x):
        return self.fc(self.features(x))


def float_model(x, y, seed=0):
    torch.manual_seed(seed)  # the initial weights too: every figure in docs/qat.md is reproducible
    return train(DigitsCNN(), x, y, 1500, 1e-2, seed)


def train(model, x, y, steps, lr, seed=0):
    torch.manual_seed(seed)
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    for _ in range(steps):
        idx = torch.randint(0, len(x), (32,))
        loss = nn.functional.cross_entropy(model(x[idx] + 0.05 * torch.randn_like(x[idx])), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    return model.eval()


def litert_accuracy(data: bytes, x, y) -> float:
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    it = Interpreter(model_content=data, experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    it.allocate_tensors()
    inp, out = it.get_input_details()[0], it.get_output_details()[0]
    hits = 0
    for xi, yi in zip(x.permute(0, 2, 3, 1).numpy(), y.numpy()):
        it.set_tensor(inp["index"], xi[None].astype(inp["dtype"]))
        it.invoke()
        hits += int(it.get_tensor(out["index"]).argmax() == yi)
    return 100.0 * hits / len(y)


def ptq(model, x1, calib, method):
    conv = TFLiteConverter.from_torch(model, (x1,))
    conv.optimizations = [Optimize.DEFAULT]
    conv.calibration_method = method
    conv.representative_dataset = lambda: ([c[None].permute(0, 2, 3, 1).numpy()] for c in calib)
    return conv.convert()


def ptq_bits(model, x1, calib, bits):
    """PTQ with `bits`-bit weights: round-to-nearest per-channel weights, activation ranges = the
    min/max seen on the calibration set, BatchNorm folded with its running statistics; no training."""
    q = prepare(model, (x1,), QATConfig(weight_bits=bits, freeze_bn_delay=0))
    q.train()
    with torch.no_grad():
        q(calib)  # one batch: each range is the calibration set's min/max
    return convert(q.eval(), (x1,))


def qat(model, x, y, x1, bits, steps):
    q = prepare(model, (x1,), QATConfig(weight_bits=bits, freeze_bn_delay=steps // 2, ema_decay=0.99))
    return train(q, x, y, steps, QAT_LR, seed=1)


def main(steps_qat=600):
    t0 = time.time()
    warnings.simplefilter("ignore")
    torch.set_num_threads(1)
    xtr, ytr, xte, yte, calib = load_digits()
    x1 = xte[:1]
    model = float_model(xtr, ytr)
    float_tfl = TFLiteConverter.from_torch(model, (x1,)).convert()
    rows = [("float32", litert_accuracy(float_tfl, xte, yte), len(float_tfl))]
    best = None
    for method in ("minmax", "percentile", "mse", "entropy"):
        data = ptq(model, x1, calib, method)
        acc = litert_accuracy(data, xte, yte)
        if method == "minmax":
            rows.append(("PTQ int8 (minmax)", acc, len(data)))
        if best is None or acc > best[1]:
            best = (f"PTQ int8 (best: {method})", acc, len(data))
    rows.append(best)
    q = qat(model, xtr, ytr, x1, 8, steps_qat)
    data = convert(q, (x1,))
    rows.append(("QAT int8", litert_accuracy(data, xte, yte), len(data)))
    print(f"{'model':<28}{'accuracy %':>11}{'bytes':>8}")
    for name, acc, size in rows:
        print(f"{name:<28}{acc:>11.1f}{size:>8}")
    print(f"\n{'weight bits':<12}{'PTQ %':>8}{'QAT %':>8}")
    for bits in (8, 6, 4, 2):
        p = litert_accuracy(ptq_bits(model, x1, calib, bits), xte, yte)
        qb = convert(qat(model, xtr, ytr, x1, bits, steps_qat), (x1,))
        print(f"{bits:<12}{p:>8.1f}{litert_accuracy(qb, xte, yte):>8.1f}")
    print(f"\n({len(yte)} held-out digits, LiteRT reference kernels; {time.time() - t0:.0f} s)")


if __name__ == "__main__":
    main()
