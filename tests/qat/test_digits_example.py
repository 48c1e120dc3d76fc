"""The accuracy claims of docs/qat.md, from examples/qat_digits.py (slow: ~1 minute): QAT int8
within 0.5 points of float and at least PTQ minmax's; 4-bit-weight QAT beats 4-bit-weight PTQ.
Every accuracy is measured on the exported .tflite in LiteRT's reference kernels."""

import importlib.util
import pathlib
import warnings

import pytest

torch = pytest.importorskip("torch")

EXAMPLE = pathlib.Path(__file__).parents[2] / "examples" / "qat_digits.py"


@pytest.mark.slow
def test_qat_recovers_what_ptq_lost_on_digits():
    spec = importlib.util.spec_from_file_location("qat_digits", EXAMPLE)
    ex = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ex)
    warnings.simplefilter("ignore")
    torch.set_num_threads(1)
    xtr, ytr, xte, yte, calib = ex.load_digits()
    x1 = xte[:1]
    model = ex.float_model(xtr, ytr)
    acc = lambda data: ex.litert_accuracy(data, xte, yte)  # noqa: E731
    float_acc = acc(ex.TFLiteConverter.from_torch(model, (x1,)).convert())
    ptq_minmax = acc(ex.ptq(model, x1, calib, "minmax"))
    qat8 = acc(ex.convert(ex.qat(model, xtr, ytr, x1, 8, 600), (x1,)))
    assert qat8 >= ptq_minmax and qat8 >= float_acc - 0.5, (float_acc, ptq_minmax, qat8)
    ptq4 = acc(ex.ptq_bits(model, x1, calib, 4))
    qat4 = acc(ex.convert(ex.qat(model, xtr, ytr, x1, 4, 600), (x1,)))
    assert qat4 > ptq4, (ptq4, qat4)
