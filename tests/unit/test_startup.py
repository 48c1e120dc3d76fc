"""Start-up cost: numba (about 0.3 s and 55 MB to import) is loaded only when a model runs an
operator whose kernel is compiled; importing eightbit and running other models never loads it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from eightbit.kernels.fast import HAVE_NUMBA

REPO = Path(__file__).resolve().parents[2]

RUN = """
import sys
import numpy as np
import eightbit
from eightbit.ir.builder import ModelBuilder

b = ModelBuilder()
x = b.tensor("x", [1, 4, 4, 3], np.float32)
r = b.tensor("r", [1, 4, 4, 3], np.float32)
y = b.tensor("y", [1, 48], np.float32)
b.op("RELU", [x], [r])
b.op("RESHAPE", [r, b.const("shape", np.array([1, 48], np.int32))], [y], {"new_shape": [1, 48]},
     options_type="ReshapeOptions")
it = eightbit.Interpreter(model_content=b.inputs(x).outputs(y).build().to_bytes())
it.allocate_tensors()
it.set_tensor(it.get_input_details()[0]["index"], np.full((1, 4, 4, 3), -1.0, np.float32))
it.invoke()
assert float(it.get_tensor(it.get_output_details()[0]["index"]).max()) == 0.0
print("numba" in sys.modules)
"""


def _numba_loaded(code: str) -> str:
    env = {k: v for k, v in os.environ.items() if k != "EIGHTBIT_DISABLE_NUMBA"}
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, env=env, timeout=120)
    assert r.returncode == 0, r.stderr[-800:]
    return r.stdout.strip().splitlines()[-1]


@pytest.mark.skipif(not HAVE_NUMBA, reason="numba not installed")
def test_import_and_a_model_without_compiled_kernels_do_not_load_numba():
    assert _numba_loaded(RUN) == "False"
    assert _numba_loaded("import sys, eightbit, eightbit.interpreter, eightbit.quantize\nprint('numba' in sys.modules)") \
        == "False"
