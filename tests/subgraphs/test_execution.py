"""Multi-subgraph execution against LiteRT's reference kernels: IF, WHILE (with shapes that
change per iteration), CALL_ONCE and resource variables over many invokes, reset_all_variables."""

from __future__ import annotations

import numpy as np
import pytest

import eightbit
from eightbit.errors import UnsupportedOpError
from tests.oracle import assert_same_as_litert
from tests.subgraphs import models


def _interpreters(model_bytes):
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    ref = Interpreter(model_content=model_bytes, experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    ours = eightbit.Interpreter(model_content=model_bytes)
    for it in (ref, ours):
        it.allocate_tensors()
    return ref, ours


def _step(it, x):
    it.set_tensor(it.get_input_details()[0]["index"], x)
    it.invoke()
    return it.get_tensor(it.get_output_details()[0]["index"])


@pytest.mark.parametrize("cond", [True, False])
def test_if_takes_the_branch_litert_takes(cond):
    rng = np.random.default_rng(int(cond))
    a, b = (rng.normal(size=(1, 3)).astype(np.float32) for _ in range(2))
    assert_same_as_litert(models.if_model(), [np.array([cond]), a, b])


@pytest.mark.parametrize("limit", [0.0, 1.0, 10.0])
def test_while_loops_as_litert(limit):
    x = np.random.default_rng(0).normal(size=(1, 2)).astype(np.float32)
    assert_same_as_litert(models.while_model(limit=limit), [np.zeros(1, np.float32), x])


@pytest.mark.parametrize("steps", [0, 1, 4])
def test_while_with_shapes_growing_each_iteration(steps):
    x = np.array([1.5, -2.0], np.float32)
    got = assert_same_as_litert(models.growing_while_model(steps), [np.zeros(1, np.int32), x])
    assert got[1].shape == (2 * 2 ** steps,)


def test_streaming_float_state_over_many_steps_and_reset():
    model = models.streaming_accumulator(init=[1, -2, 3, 0.5])
    ref, ours = _interpreters(model)
    rng = np.random.default_rng(0)
    for k in range(40):
        x = rng.normal(size=(1, 4)).astype(np.float32)
        np.testing.assert_array_equal(_step(ours, x), _step(ref, x), err_msg=f"step {k}")
        if k == 20:
            # LiteRT's reset_all_variables leaves resource variables (and CALL_ONCE) alone
            ref.reset_all_variables()
            ours.reset_all_variables()


def test_int8_streaming_state_matches_litert_every_step():
    model = models.int8_streaming_model()
    ref, ours = _interpreters(model)
    rng = np.random.default_rng(1)
    for k in range(60):
        x = rng.integers(-128, 128, size=(1, 8)).astype(np.int8)
        np.testing.assert_array_equal(_step(ours, x), _step(ref, x), err_msg=f"step {k}")


def test_two_interpreters_keep_separate_variables():
    model = models.streaming_accumulator()
    a = eightbit.Interpreter(model_content=model)
    b = eightbit.Interpreter(model_content=model)
    for it in (a, b):
        it.allocate_tensors()
    one = np.ones((1, 4), np.float32)
    for _ in range(3):
        _step(a, one)
    np.testing.assert_array_equal(_step(b, one), one)


def test_unsupported_ops_are_counted_in_every_subgraph():
    m = eightbit.load(models.while_model())
    body = m.subgraphs[2]
    body.operators[1].op_type = "CUSTOM"
    body.operators[1].custom_code = "NoSuchOp"
    cond = m.subgraphs[1]
    cond.operators[0].op_type = "UNKNOWN_BUILTIN_999"
    with pytest.raises(UnsupportedOpError) as e:
        eightbit.Interpreter(model_content=m)
    text = str(e.value)
    assert "NoSuchOp v1 x1 (custom op: register a kernel with eightbit.register_custom_op)" in text
    assert "UNKNOWN_BUILTIN_999 v1 x1 (no kernel)" in text


def test_bad_subgraph_index_is_one_clear_error():
    m = eightbit.load(models.if_model())
    m.main.operators[0].options["else_subgraph_index"] = 7
    with pytest.raises(eightbit.ModelError, match="else_subgraph_index = 7: the model has subgraphs 0..2"):
        eightbit.Interpreter(model_content=m.to_bytes()).allocate_tensors()


def test_called_subgraphs_run_with_the_interpreters_kernel_choice():
    from tests.subgraphs.models import while_model

    it = eightbit.Interpreter(model_content=while_model(), kernels="reference")
    it.allocate_tensors()
    for d in it.get_input_details():
        it.set_tensor(d["index"], np.ones(d["shape"], d["dtype"]))
    it.invoke()
    session = it._runner.session
    assert session.kernels == "reference"
    assert session._runners and all(r.kernel_mode == "reference" for r in session._runners.values())


def test_call_is_refused_in_one_line_as_litert_refuses_it():
    """CALL (builtin 31) has no kernel in TFLite's runtime: the file loads (it is valid), the
    interpreter refuses it in one line naming the operator, as LiteRT does."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    data = models.call_model()
    m = eightbit.load(data)
    assert m.main.operators[0].op_type == "CALL" and m.main.operators[0].options == {"subgraph": 1}
    assert eightbit.load(m.to_bytes()).main.operators[0].options == {"subgraph": 1}  # round trip
    with pytest.raises(ValueError, match="CALL"):
        Interpreter(model_content=data, experimental_op_resolver_type=OpResolverType.BUILTIN_REF).allocate_tensors()
    with pytest.raises(UnsupportedOpError) as e:
        eightbit.Interpreter(model_content=data).allocate_tensors()
    assert str(e.value) == "model uses 1 unsupported operator(s): CALL v1 x1 (no kernel)"


@pytest.mark.parametrize("dtype, zero_point", [(np.int8, 3), (np.int8, -7), (np.uint8, 131), (np.int16, 0)])
def test_variable_tensors_start_and_reset_as_in_litert(dtype, zero_point):
    """TFLite's ResetVariableTensor: an int8 variable tensor holds its zero point after allocation and
    reset_all_variables, every other type 0 (uint8 too, whatever its zero point)."""
    data = models.variable_tensor_model(dtype, zero_point)
    ref, ours = _interpreters(data)
    v = 1
    x = np.array([[0, 5, 20, 9]], dtype)
    for it in (ref, ours):
        it.set_tensor(it.get_input_details()[0]["index"], x)
        it.invoke()
    np.testing.assert_array_equal(ours.get_tensor(ours.get_output_details()[0]["index"]),
                                  ref.get_tensor(ref.get_output_details()[0]["index"]))
    for it in (ref, ours):
        it.set_tensor(v, np.full((1, 4), 9, dtype))
        it.reset_all_variables()
    np.testing.assert_array_equal(ours.get_tensor(v), ref.get_tensor(v))
    assert ours.get_tensor(v).tolist() == [[zero_point if dtype == np.int8 else 0] * 4]


def test_variable_tensors_of_called_subgraphs_start_as_in_litert():
    data = models.variable_tensor_model(np.int8, 5, in_branch=True)
    x = np.array([[1, -2, 30, 4]], np.int8)
    got = assert_same_as_litert(data, [np.array([True]), x])
    assert got[0].tolist() == x.tolist()  # v holds its zero point: real 0 (zero-filled it would be -0.5)
