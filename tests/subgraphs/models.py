"""Multi-subgraph test models built with our writer: CALL_ONCE + resource variables, IF, WHILE.

Each builder returns model bytes; the tests run them in LiteRT and in eightbit.
"""

from __future__ import annotations

import numpy as np

from eightbit.ir.builder import ModelBuilder
from eightbit.ir.model import Model


def _subgraph(b: ModelBuilder):
    return b.sg


def _var_handle(b: ModelBuilder, name: str) -> int:
    h = b.tensor(f"{name}_handle", (), type_name="RESOURCE")
    b.op("VAR_HANDLE", [], [h], {"container": "", "shared_name": name}, options_type="VarHandleOptions")
    return h


def streaming_accumulator(shape=(1, 4), dtype=np.float32, init=None) -> bytes:
    """state <- state * 0.5 + x; y = state. The variable starts at `init` (CALL_ONCE subgraph)."""
    init = np.zeros(shape, dtype) if init is None else np.asarray(init, dtype).reshape(shape)
    main = ModelBuilder("main")
    x = main.tensor("x", shape, dtype)
    main.op("CALL_ONCE", [], [], {"init_subgraph_index": 1}, options_type="CallOnceOptions")
    h = _var_handle(main, "state")
    old = main.tensor("old", shape, dtype)
    main.op("READ_VARIABLE", [h], [old], options_type="ReadVariableOptions")
    half = main.const("half", np.full(shape, 0.5, dtype))
    scaled = main.tensor("scaled", shape, dtype)
    main.op("MUL", [old, half], [scaled], {"fused_activation_function": 0}, options_type="MulOptions")
    y = main.tensor("y", shape, dtype)
    main.op("ADD", [scaled, x], [y], {"fused_activation_function": 0}, options_type="AddOptions")
    main.op("ASSIGN_VARIABLE", [h, y], [], options_type="AssignVariableOptions")
    main.inputs(x).outputs(y)

    init_b = ModelBuilder("init")
    h1 = _var_handle(init_b, "state")
    c = init_b.const("init_value", init)
    init_b.op("ASSIGN_VARIABLE", [h1, c], [], options_type="AssignVariableOptions")
    return Model(subgraphs=[main.sg, init_b.sg]).to_bytes()


def if_model(shape=(1, 3)) -> bytes:
    """y = cond ? a + b : a * b."""
    main = ModelBuilder("main")
    cond = main.tensor("cond", (1,), np.bool_)
    a = main.tensor("a", shape)
    bb = main.tensor("b", shape)
    y = main.tensor("y", shape)
    main.op("IF", [cond, a, bb], [y], {"then_subgraph_index": 1, "else_subgraph_index": 2},
            options_type="IfOptions")
    main.inputs(cond, a, bb).outputs(y)
    branches = []
    for name, op, opts in (("then", "ADD", "AddOptions"), ("else", "MUL", "MulOptions")):
        s = ModelBuilder(name)
        i0, i1, o = s.tensor("a", shape), s.tensor("b", shape), s.tensor("y", shape)
        s.op(op, [i0, i1], [o], {"fused_activation_function": 0}, options_type=opts)
        s.inputs(i0, i1).outputs(o)
        branches.append(s.sg)
    return Model(subgraphs=[main.sg, *branches]).to_bytes()


def while_model(shape=(1, 2), limit=10.0) -> bytes:
    """i, x = 0, x0; while i < limit: i, x = i + 1, x * 2 + 1.  Outputs (i, x)."""
    main = ModelBuilder("main")
    i0 = main.tensor("i0", (1,))
    x0 = main.tensor("x0", shape)
    i_out, x_out = main.tensor("i_out", (1,)), main.tensor("x_out", shape)
    main.op("WHILE", [i0, x0], [i_out, x_out], {"cond_subgraph_index": 1, "body_subgraph_index": 2},
            options_type="WhileOptions")
    main.inputs(i0, x0).outputs(i_out, x_out)

    cond = ModelBuilder("cond")
    ci, cx = cond.tensor("i", (1,)), cond.tensor("x", shape)
    lim = cond.const("limit", np.array([limit], np.float32))
    out = cond.tensor("keep_going", (1,), np.bool_)
    cond.op("LESS", [ci, lim], [out], options_type="LessOptions")
    cond.inputs(ci, cx).outputs(out)

    body = ModelBuilder("body")
    bi, bx = body.tensor("i", (1,)), body.tensor("x", shape)
    one = body.const("one", np.array([1.0], np.float32))
    two = body.const("two", np.full(shape, 2.0, np.float32))
    ni, tx, nx = body.tensor("i_next", (1,)), body.tensor("x2", shape), body.tensor("x_next", shape)
    body.op("ADD", [bi, one], [ni], {"fused_activation_function": 0}, options_type="AddOptions")
    body.op("MUL", [bx, two], [tx], {"fused_activation_function": 0}, options_type="MulOptions")
    body.op("ADD", [tx, one], [nx], {"fused_activation_function": 0}, options_type="AddOptions")
    body.inputs(bi, bx).outputs(ni, nx)
    return Model(subgraphs=[main.sg, cond.sg, body.sg]).to_bytes()
