"""Train a small CNN on the bundled digits with PyTorch and export it to ONNX for `make demo`.

    python tools/export_demo_onnx.py            # writes eightbit/data/digits_cnn.onnx (+ reference outputs)

The network mirrors the bundled TensorFlow model (Conv 8 3x3 ReLU -> MaxPool -> Conv 16 3x3 ReLU6
-> AvgPool -> Flatten -> Linear 10 -> Softmax) in PyTorch's channel-first layout, so the demo shows
the layout change and the flatten. It trains only on digits outside the held-out split of
eightbit/data/digits.npz (100 labelled ones, and the 100 calibration digits labelled by the
bundled TensorFlow model), with small random shifts as augmentation, deterministically on CPU. onnxruntime's outputs on every
evaluation digit are stored beside the model (digits_cnn_onnx_outputs.npy) as the demo's oracle.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

DATA = Path(__file__).resolve().parents[1] / "eightbit" / "data"


class DigitsCNN(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, 8, 3, padding=1)
        self.conv2 = torch.nn.Conv2d(8, 16, 3, padding=1)
        self.fc = torch.nn.Linear(16 * 2 * 2, 10)

    def forward(self, x):
        y = torch.nn.functional.max_pool2d(torch.relu(self.conv1(x)), 2)
        y = torch.nn.functional.avg_pool2d(torch.nn.functional.relu6(self.conv2(y)), 2)
        return torch.softmax(self.fc(torch.flatten(y, 1)), dim=1)


def training_set(d):
    """Digits outside the held-out split: the 100 labelled evaluation digits, and the 100 calibration
    digits (which carry no labels) labelled by the bundled TensorFlow model's predictions."""
    import eightbit
    from eightbit.quantize.compare import run_samples

    keep = ~d["heldout"]
    teacher = eightbit.load((DATA / "digits_cnn_float32.tflite").read_bytes())
    calib_labels = np.argmax(run_samples(teacher, d["calib_0"])[0].reshape(len(d["calib_0"]), -1), axis=-1)
    x = np.concatenate([d["eval_0"][keep], d["calib_0"]]).reshape(-1, 1, 8, 8)
    return x, np.concatenate([d["labels"][keep], calib_labels]).astype(np.int64)


def shifted(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Each image moved by -1..1 pixels in each direction (background is -1)."""
    dy, dx = (int(v) for v in torch.randint(-1, 2, (2,), generator=gen))
    y = torch.roll(x, (dy, dx), (2, 3))
    if dy:
        y[:, :, 0 if dy > 0 else -1, :] = -1
    if dx:
        y[:, :, :, 0 if dx > 0 else -1] = -1
    return y


def train(x: np.ndarray, labels: np.ndarray, epochs: int, seed: int) -> DigitsCNN:
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    model = DigitsCNN()
    opt = torch.optim.AdamW(model.parameters(), lr=0.01, weight_decay=0.05)
    xt, yt = torch.from_numpy(x), torch.from_numpy(labels)
    for _ in range(epochs):
        opt.zero_grad()
        logits = torch.log(model(shifted(xt, gen)) + 1e-9)
        loss = torch.nn.functional.nll_loss(logits, yt)
        loss.backward()
        opt.step()
    return model.eval()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=600)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=str(DATA / "digits_cnn.onnx"))
    args = ap.parse_args()
    with np.load(DATA / "digits.npz") as z:
        d = {k: z[k] for k in z.files}
    x, labels = training_set(d)
    model = train(x.astype(np.float32), labels, args.epochs, args.seed)
    x_eval = torch.from_numpy(d["eval_0"].reshape(-1, 1, 8, 8))
    with torch.no_grad():
        pred = model(x_eval).argmax(1).numpy()
    held = d["heldout"]
    print(f"trained on {len(x)} digits; torch accuracy on the {int(held.sum())} held-out digits: "
          f"{100 * np.mean(pred[held] == d['labels'][held]):.2f}%")
    torch.onnx.export(model, (x_eval[:1],), args.out, input_names=["image"], output_names=["probabilities"],
                      opset_version=17, dynamo=False)
    import onnxruntime as ort

    sess = ort.InferenceSession(args.out, providers=["CPUExecutionProvider"])
    outs = np.concatenate([sess.run(None, {"image": x_eval[i:i + 1].numpy()})[0] for i in range(len(x_eval))])
    np.save(Path(args.out).with_name("digits_cnn_onnx_outputs.npy"), outs.astype(np.float32))
    print(f"wrote {args.out} ({Path(args.out).stat().st_size} bytes) and onnxruntime's outputs on all "
          f"{len(outs)} evaluation digits")


if __name__ == "__main__":
    main()
