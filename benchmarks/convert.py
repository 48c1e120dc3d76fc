"""ONNX conversion cost: time and peak memory of TFLiteConverter.from_onnx(...).convert() on a
ResNet-50-sized model (issue 8's target: under 10 s and under 3x the ONNX file's size in memory).

    python benchmarks/convert.py [--model resnet50|resnet18] [--keep DIR] [--check]

The model is built with torch (a ResNet-50 written here: torchvision is not needed; random
weights, BatchNorm in eval mode with random statistics) and exported with torch.onnx.export.
The conversion then runs in a fresh child process that has imported eightbit and onnx first, so
the figures are the conversion's own: wall time, the growth of the peak resident set size
(VmHWM, Linux) over the child's size just before converting (for from_onnx alone, and in all),
and Python's tracemalloc peak (numpy and Python objects; protobuf's C++ memory is only in the RSS
figures). --check runs the converted
model once in eightbit against onnxruntime.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

CHILD = r"""
import json, sys, time, tracemalloc
import numpy as np
import onnx  # noqa: F401 - imported before measuring
import eightbit
from eightbit.converter import TFLiteConverter



def status(key):  # KiB, from /proc (Linux): VmRSS now, VmHWM the peak so far
    with open("/proc/self/status") as f:
        return int(f.read().split(key + ":")[1].split()[0])


path = sys.argv[1]
base = status("VmRSS")
tracemalloc.start()
t0 = time.perf_counter()
conv = TFLiteConverter.from_onnx(path)
t1 = time.perf_counter()
import_peak = status("VmHWM")
data = conv.convert()
t2 = time.perf_counter()
_, peak = tracemalloc.get_traced_memory()
tracemalloc.stop()
out = {"import_s": t1 - t0, "convert_s": t2 - t1, "tflite_bytes": len(data), "rss_growth_kib": status("VmHWM") - base,
       "import_growth_kib": import_peak - base, "tracemalloc_peak": peak,
       "ops": sum(c for c in eightbit.load(data).operator_summary().values())}
if len(sys.argv) > 2:
    open(sys.argv[2], "wb").write(data)
print(json.dumps(out))
"""


def resnet(depths=(3, 4, 6, 3), bottleneck=True):
    import torch
    from torch import nn

    class Block(nn.Module):
        def __init__(self, cin, width, stride):
            super().__init__()
            cout = width * (4 if bottleneck else 1)
            if bottleneck:
                layers = [nn.Conv2d(cin, width, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU(),
                          nn.Conv2d(width, width, 3, stride, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU(),
                          nn.Conv2d(width, cout, 1, bias=False), nn.BatchNorm2d(cout)]
            else:
                layers = [nn.Conv2d(cin, width, 3, stride, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU(),
                          nn.Conv2d(width, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout)]
            self.body = nn.Sequential(*layers)
            self.skip = (nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
                         if stride != 1 or cin != cout else nn.Identity())

        def forward(self, x):
            return torch.relu(self.body(x) + self.skip(x))

    layers = [nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(3, 2, 1)]
    cin = 64
    for stage, depth in enumerate(depths):
        width = 64 * 2**stage
        for i in range(depth):
            layers.append(Block(cin, width, 2 if i == 0 and stage > 0 else 1))
            cin = width * (4 if bottleneck else 1)
    model = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, 1000))
    torch.manual_seed(0)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
    return model.eval()


def export(name: str, path: Path) -> None:
    import torch

    model = resnet() if name == "resnet50" else resnet((2, 2, 2, 2), bottleneck=False)
    torch.onnx.export(model, (torch.randn(1, 3, 224, 224),), str(path), input_names=["image"],
                      output_names=["logits"], opset_version=17, dynamo=False)


def check(onnx_path: Path, tflite_path: Path) -> float:
    import numpy as np
    import onnxruntime as ort

    import eightbit

    x = np.random.default_rng(0).standard_normal((1, 3, 224, 224)).astype(np.float32)
    want = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"]).run(None, {"image": x})[0]
    it = eightbit.Interpreter(model_path=str(tflite_path))
    it.allocate_tensors()
    it.set_tensor(it.get_input_details()[0]["index"], x.transpose(0, 2, 3, 1))
    it.invoke()
    got = it.get_tensor(it.get_output_details()[0]["index"])
    return float(np.max(np.abs(got - want)) / max(np.max(np.abs(want)), 1e-12))


def main() -> int:
    ap = argparse.ArgumentParser(description="ONNX -> .tflite conversion time and memory")
    ap.add_argument("--model", default="resnet50", choices=("resnet50", "resnet18"))
    ap.add_argument("--keep", metavar="DIR", help="keep the .onnx and .tflite files in DIR")
    ap.add_argument("--check", action="store_true", help="compare one inference with onnxruntime")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        where = Path(args.keep or tmp)
        where.mkdir(parents=True, exist_ok=True)
        onnx_path, tflite_path = where / f"{args.model}.onnx", where / f"{args.model}.tflite"
        export(args.model, onnx_path)
        size = onnx_path.stat().st_size
        env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
        run = subprocess.run([sys.executable, "-c", CHILD, str(onnx_path), str(tflite_path)], capture_output=True,
                             text=True, env=env)
        if run.returncode:
            sys.stderr.write(run.stderr)
            return 1
        r = json.loads(run.stdout.strip().splitlines()[-1])
        total = r["import_s"] + r["convert_s"]
        rss = r["rss_growth_kib"] * 1024
        print(f"{args.model}: ONNX {size / 2**20:.1f} MiB -> .tflite {r['tflite_bytes'] / 2**20:.1f} MiB, {r['ops']} operators")
        print(f"  time: {total:.2f} s (from_onnx {r['import_s']:.2f} s, convert {r['convert_s']:.2f} s)"
              f"  target < 10 s: {'ok' if total < 10 else 'MISSED'}")
        imp = r["import_growth_kib"] * 1024
        print(f"  peak memory growth (RSS): {rss / 2**20:.0f} MiB = {rss / size:.2f}x the file"
              f"  target < 3x: {'ok' if rss < 3 * size else 'MISSED'} (from_onnx alone: {imp / size:.2f}x)")
        print(f"  tracemalloc peak (numpy + Python): {r['tracemalloc_peak'] / 2**20:.0f} MiB = "
              f"{r['tracemalloc_peak'] / size:.2f}x the file")
        if args.check:
            print(f"  max |eightbit - onnxruntime| / max |onnxruntime|: {check(onnx_path, tflite_path):.2e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
