"""Every conformance case through the fast kernels and the reference kernels: every tensor of
sample 0 (outputs and intermediates, experimental_preserve_all_tensors) identical bit for bit,
floats included, except the floats of models whose float GEMMs the fast path sums through BLAS
(no float value quantized at run time: fastpath.floats_stay_float), which must be within
tests/fuzz/fast_vs_reference.FLOAT_RTOL of each tensor's magnitude."""

from __future__ import annotations

import numpy as np
import pytest

import eightbit
from eightbit.interpreter.fastpath import floats_stay_float
from tests.corpus import case, case_data, case_names, model_bytes
from tests.fuzz.fast_vs_reference import same


def _all_tensors(c, data, kernels):
    it = eightbit.Interpreter(model_content=model_bytes(c), experimental_preserve_all_tensors=True, kernels=kernels)
    it.allocate_tensors()
    for spec, det in zip(c["inputs"], it.get_input_details()):
        it.set_tensor(det["index"], data[spec["key"]][0])
    it.invoke()
    return {d["index"]: it.get_tensor(d["index"]) for d in it.get_tensor_details()}


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("name", case_names())
def test_fast_equals_reference_on_every_tensor(name):
    c = case(name)
    data = case_data(c)
    fast, ref = _all_tensors(c, data, "fast"), _all_tensors(c, data, "reference")
    assert fast.keys() == ref.keys()
    blas = floats_stay_float(eightbit.load(model_bytes(c)))
    bad = [i for i in ref if not same(b"", np.asarray(fast[i]), np.asarray(ref[i]), blas)]
    assert not bad, f"{name}: tensors {bad} differ between the fast and the reference kernels"


def test_kernels_option_is_checked():
    c = case(case_names()[0])
    with pytest.raises(ValueError, match="kernels='quick'"):
        eightbit.Interpreter(model_content=model_bytes(c), kernels="quick")
