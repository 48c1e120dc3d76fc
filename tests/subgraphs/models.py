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


def growing_while_model(steps=3) -> bytes:
    """x doubles in length each iteration (CONCATENATION with itself): shapes change per iteration.
    i counts up to `steps`; outputs (i, x) with x of length len(x0) * 2**steps."""
    main = ModelBuilder("main")
    i0, x0 = main.tensor("i0", (1,), np.int32), main.tensor("x0", (2,))
    i_out, x_out = main.tensor("i_out", (1,), np.int32), main.tensor("x_out", (2,))
    main.op("WHILE", [i0, x0], [i_out, x_out], {"cond_subgraph_index": 1, "body_subgraph_index": 2},
            options_type="WhileOptions")
    main.inputs(i0, x0).outputs(i_out, x_out)
    m = Model(subgraphs=[main.sg])
    m.main.tensors[x0].shape_signature = (-1,)
    m.main.tensors[x_out].shape_signature = (-1,)

    cond = ModelBuilder("cond")
    ci, cx = cond.tensor("i", (1,), np.int32), cond.tensor("x", (2,))
    lim = cond.const("limit", np.array([steps], np.int32))
    out = cond.tensor("keep_going", (1,), np.bool_)
    cond.op("LESS", [ci, lim], [out], options_type="LessOptions")
    cond.inputs(ci, cx).outputs(out)
    cond.sg.tensors[cx].shape_signature = (-1,)

    body = ModelBuilder("body")
    bi, bx = body.tensor("i", (1,), np.int32), body.tensor("x", (2,))
    one = body.const("one", np.array([1], np.int32))
    ni, nx = body.tensor("i_next", (1,), np.int32), body.tensor("x_next", (4,))
    body.op("ADD", [bi, one], [ni], {"fused_activation_function": 0}, options_type="AddOptions")
    body.op("CONCATENATION", [bx, bx], [nx], {"axis": 0, "fused_activation_function": 0},
            options_type="ConcatenationOptions")
    body.inputs(bi, bx).outputs(ni, nx)
    body.sg.tensors[bx].shape_signature = (-1,)
    body.sg.tensors[nx].shape_signature = (-1,)
    m.subgraphs += [cond.sg, body.sg]
    return m.to_bytes()


def int8_streaming_model(n=8, scale=0.05) -> bytes:
    """An int8 state machine as the streaming wake-word models keep it: the state is an int8
    resource variable, y = state + x (quantized ADD), state <- y; CALL_ONCE zero-fills it."""
    q = {"dtype": np.int8, "scale": scale, "zero_point": 3}
    main = ModelBuilder("main")
    x = main.tensor("x", (1, n), **q)
    main.op("CALL_ONCE", [], [], {"init_subgraph_index": 1}, options_type="CallOnceOptions")
    h = _var_handle(main, "stream_state")
    old = main.tensor("old", (1, n), **q)
    main.op("READ_VARIABLE", [h], [old], options_type="ReadVariableOptions")
    y = main.tensor("y", (1, n), dtype=np.int8, scale=scale * 2, zero_point=-5)
    main.op("ADD", [old, x], [y], {"fused_activation_function": 0}, options_type="AddOptions")
    back = main.tensor("y_requantized", (1, n), **q)
    main.op("QUANTIZE", [y], [back], options_type="QuantizeOptions")
    main.op("ASSIGN_VARIABLE", [h, back], [], options_type="AssignVariableOptions")
    main.inputs(x).outputs(y)

    init_b = ModelBuilder("init")
    h1 = _var_handle(init_b, "stream_state")
    c = init_b.const("zeros", np.full((1, n), 3, np.int8), scale=scale, zero_point=3)
    init_b.op("ASSIGN_VARIABLE", [h1, c], [], options_type="AssignVariableOptions")
    return Model(subgraphs=[main.sg, init_b.sg]).to_bytes()


def _fc(b: ModelBuilder, name: str, x: int, n_in: int, n_out: int, seed: int, act: int = 0) -> int:
    rng = np.random.default_rng(seed)
    w = b.const(f"{name}_w", rng.normal(0, 0.5, (n_out, n_in)).astype(np.float32))
    bias = b.const(f"{name}_b", rng.normal(0, 0.1, (n_out,)).astype(np.float32))
    y = b.tensor(name, (1, n_out))
    b.op("FULLY_CONNECTED", [x, w, bias], [y], {"fused_activation_function": act}, options_type="FullyConnectedOptions")
    return y


def rnn_while_model(n=6, steps=5) -> bytes:
    """A recurrent loop with real arithmetic in its body: i counts to `steps` (float), h <- tanh(FC(h) + x)
    with x a loop-invariant value. Outputs (i, h)."""
    main = ModelBuilder("main")
    x = main.tensor("x", (1, n))
    i0 = main.const("i0", np.zeros(1, np.float32))
    h0 = main.tensor("h0", (1, n))
    main.op("MUL", [x, main.const("zero", np.zeros((1, n), np.float32))], [h0], {"fused_activation_function": 0},
            options_type="MulOptions")
    i_out, h_out, x_out = main.tensor("i_out", (1,)), main.tensor("h_out", (1, n)), main.tensor("x_out", (1, n))
    main.op("WHILE", [i0, h0, x], [i_out, h_out, x_out], {"cond_subgraph_index": 1, "body_subgraph_index": 2},
            options_type="WhileOptions")
    y = _fc(main, "head", h_out, n, 3, seed=9)
    main.inputs(x).outputs(y, i_out)

    cond = ModelBuilder("cond")
    ci, ch, cx = cond.tensor("i", (1,)), cond.tensor("h", (1, n)), cond.tensor("x", (1, n))
    out = cond.tensor("keep_going", (1,), np.bool_)
    cond.op("LESS", [ci, cond.const("limit", np.array([steps], np.float32))], [out], options_type="LessOptions")
    cond.inputs(ci, ch, cx).outputs(out)

    body = ModelBuilder("body")
    bi, bh, bx = body.tensor("i", (1,)), body.tensor("h", (1, n)), body.tensor("x", (1, n))
    ni = body.tensor("i_next", (1,))
    body.op("ADD", [bi, body.const("one", np.array([1.0], np.float32))], [ni], {"fused_activation_function": 0},
            options_type="AddOptions")
    z = _fc(body, "z", bh, n, n, seed=3)
    s = body.tensor("s", (1, n))
    body.op("ADD", [z, bx], [s], {"fused_activation_function": 0}, options_type="AddOptions")
    nh = body.tensor("h_next", (1, n))
    body.op("TANH", [s], [nh], options_type=None)
    body.inputs(bi, bh, bx).outputs(ni, nh, bx)
    return Model(subgraphs=[main.sg, cond.sg, body.sg]).to_bytes()


def fc_if_model(n=5) -> bytes:
    """y = FC_head(cond ? relu(FC_a(x)) : FC_b(x) * x): quantizable work in both branches and after the IF."""
    main = ModelBuilder("main")
    cond = main.tensor("cond", (1,), np.bool_)
    x = main.tensor("x", (1, n))
    pre = _fc(main, "pre", x, n, n, seed=1)
    r = main.tensor("r", (1, n))
    main.op("IF", [cond, pre], [r], {"then_subgraph_index": 1, "else_subgraph_index": 2}, options_type="IfOptions")
    y = _fc(main, "head", r, n, 2, seed=2)
    main.inputs(cond, x).outputs(y)
    then = ModelBuilder("then")
    tx = then.tensor("x", (1, n))
    then.inputs(tx).outputs(_fc(then, "a", tx, n, n, seed=4, act=1))
    other = ModelBuilder("else")
    ex = other.tensor("x", (1, n))
    f = _fc(other, "b", ex, n, n, seed=5)
    m = other.tensor("m", (1, n))
    other.op("MUL", [f, ex], [m], {"fused_activation_function": 0}, options_type="MulOptions")
    other.inputs(ex).outputs(m)
    return Model(subgraphs=[main.sg, then.sg, other.sg]).to_bytes()


def fc_streaming_model(n=4) -> bytes:
    """A streaming layer as TF exports it: state (resource variable, zero-initialised by CALL_ONCE)
    concatenated with the new frame, FC, and the newest frame stored back; y = relu(FC([state, x]))."""
    main = ModelBuilder("main")
    x = main.tensor("x", (1, n))
    main.op("CALL_ONCE", [], [], {"init_subgraph_index": 1}, options_type="CallOnceOptions")
    h = _var_handle(main, "frame")
    old = main.tensor("old", (1, n))
    main.op("READ_VARIABLE", [h], [old], options_type="ReadVariableOptions")
    both = main.tensor("both", (1, 2 * n))
    main.op("CONCATENATION", [old, x], [both], {"axis": 1, "fused_activation_function": 0},
            options_type="ConcatenationOptions")
    y = _fc(main, "y", both, 2 * n, 3, seed=6, act=1)
    main.op("ASSIGN_VARIABLE", [h, x], [], options_type="AssignVariableOptions")
    main.inputs(x).outputs(y)
    init_b = ModelBuilder("init")
    h1 = _var_handle(init_b, "frame")
    init_b.op("ASSIGN_VARIABLE", [h1, init_b.const("zeros", np.zeros((1, n), np.float32))], [],
              options_type="AssignVariableOptions")
    return Model(subgraphs=[main.sg, init_b.sg]).to_bytes()


def call_model() -> bytes:
    """The reserved builtin CALL (31, CallOptions.subgraph) running subgraph 1 = RELU. TFLite's
    runtime registers no kernel for it."""
    main = ModelBuilder("main")
    a, y = main.tensor("a", (1, 3)), main.tensor("y", (1, 3))
    main.op("CALL", [a], [y], {"subgraph": 1}, options_type="CallOptions")
    main.inputs(a).outputs(y)
    s = ModelBuilder("callee")
    i, o = s.tensor("a", (1, 3)), s.tensor("y", (1, 3))
    s.op("RELU", [i], [o])
    s.inputs(i).outputs(o)
    return Model(subgraphs=[main.sg, s.sg]).to_bytes()


def variable_tensor_model(dtype=np.int8, zero_point=3, in_branch=False) -> bytes:
    """y = x + v with v an `is_variable` tensor (the state tensors of LSTM / SVDF), quantized with
    `zero_point`; with in_branch the ADD sits in the then-branch of an IF (input 0: true)."""
    q = {"dtype": dtype, "scale": 0.1, "zero_point": zero_point}
    b = ModelBuilder("then" if in_branch else "main")
    x, v, y = b.tensor("x", (1, 4), **q), b.tensor("v", (1, 4), **q), b.tensor("y", (1, 4), **q)
    b.op("ADD", [x, v], [y], {"fused_activation_function": 0}, options_type="AddOptions")
    b.inputs(x).outputs(y)
    b.sg.tensors[v].is_variable = True
    if not in_branch:
        return Model(subgraphs=[b.sg]).to_bytes()
    main = ModelBuilder("main")
    c, mx, my = main.tensor("cond", (1,), np.bool_), main.tensor("x", (1, 4), **q), main.tensor("y", (1, 4), **q)
    main.op("IF", [c, mx], [my], {"then_subgraph_index": 1, "else_subgraph_index": 2}, options_type="IfOptions")
    main.inputs(c, mx).outputs(my)
    other = ModelBuilder("else")
    ox, oy = other.tensor("x", (1, 4), **q), other.tensor("y", (1, 4), **q)
    other.op("RESHAPE", [ox, other.const("shape", np.array([1, 4], np.int32))], [oy], {"new_shape": [1, 4]},
             options_type="ReshapeOptions")
    other.inputs(ox).outputs(oy)
    return Model(subgraphs=[main.sg, b.sg, other.sg]).to_bytes()


def _relu_fc_loop(n: int, steps: int, seed: int) -> tuple:
    """The cond and body builders of a counted WHILE: (i, h) -> (i + 1, relu(FC(h))) while i < steps."""
    cond = ModelBuilder("cond")
    ci, ch, keep = cond.tensor("i", (1,), np.int32), cond.tensor("h", (1, n)), cond.tensor("keep", (1,), np.bool_)
    cond.op("LESS", [ci, cond.const("limit", np.array([steps], np.int32))], [keep], options_type="LessOptions")
    cond.inputs(ci, ch).outputs(keep)
    body = ModelBuilder("body")
    bi, bh, ni = body.tensor("i", (1,), np.int32), body.tensor("h", (1, n)), body.tensor("i_next", (1,), np.int32)
    body.op("ADD", [bi, body.const("one", np.ones(1, np.int32))], [ni], {"fused_activation_function": 0},
            options_type="AddOptions")
    body.inputs(bi, bh).outputs(ni, _fc(body, "h_next", bh, n, n, seed=seed, act=1))
    return cond, body


def nested_model(n=4, steps=3) -> bytes:
    """IF whose then-branch runs a WHILE (h <- relu(FC(h)), `steps` times); the else-branch negates.
    Subgraphs: 0 main, 1 then (holds the WHILE), 2 else, 3 cond, 4 body."""
    main = ModelBuilder("main")
    c, x, y = main.tensor("cond", (1,), np.bool_), main.tensor("x", (1, n)), main.tensor("y", (1, n))
    main.op("IF", [c, x], [y], {"then_subgraph_index": 1, "else_subgraph_index": 2}, options_type="IfOptions")
    main.inputs(c, x).outputs(y)
    then = ModelBuilder("then")
    tx, ti, to, tc = then.tensor("x", (1, n)), then.tensor("i_out", (1,), np.int32), then.tensor("h", (1, n)), \
        then.const("i0", np.zeros(1, np.int32))
    then.op("WHILE", [tc, tx], [ti, to], {"cond_subgraph_index": 3, "body_subgraph_index": 4},
            options_type="WhileOptions")
    then.inputs(tx).outputs(to)
    other = ModelBuilder("else")
    ex, ey = other.tensor("x", (1, n)), other.tensor("y", (1, n))
    other.op("NEG", [ex], [ey])
    other.inputs(ex).outputs(ey)
    cond, body = _relu_fc_loop(n, steps, seed=8)
    return Model(subgraphs=[main.sg, then.sg, other.sg, cond.sg, body.sg]).to_bytes()


def shared_body_model(n=4, steps=3) -> bytes:
    """Two WHILE operators running the same cond / body subgraphs (h <- relu(FC(h)) `steps` times),
    the second on the first's result."""
    main = ModelBuilder("main")
    x = main.tensor("x", (1, n))
    i0 = main.const("i0", np.zeros(1, np.int32))
    i1, h1, i2, h2 = (main.tensor(nm, (1,) if nm[0] == "i" else (1, n), np.int32 if nm[0] == "i" else np.float32)
                      for nm in ("i1", "h1", "i2", "h2"))
    for ins, outs in (([i0, x], [i1, h1]), ([i0, h1], [i2, h2])):
        main.op("WHILE", ins, outs, {"cond_subgraph_index": 1, "body_subgraph_index": 2}, options_type="WhileOptions")
    main.inputs(x).outputs(h2)
    cond, body = _relu_fc_loop(n, steps, seed=11)
    return Model(subgraphs=[main.sg, cond.sg, body.sg]).to_bytes()
