"""Attention and recurrent layers.

MultiHeadAttention / Attention become FULLY_CONNECTED projections, BATCH_MATMUL and SOFTMAX.
LSTM, GRU and SimpleRNN are unrolled over their fixed number of steps, as TF's converter does
when no fused sequence op is used: one FULLY_CONNECTED over the whole sequence for the input
projection, UNPACK into steps, per step a FULLY_CONNECTED for the recurrent projection and the
gate arithmetic, PACK for return_sequences.
"""

from __future__ import annotations

import numpy as np

from eightbit.importers.keras import activations
from eightbit.importers.keras.emitter import Emitter, T, to_numpy
from eightbit.importers.keras.layers_conv import weights

NEG_INF = -1e9  # what Keras adds to masked attention logits


# ---- attention -------------------------------------------------------------------------------------

def _heads(em: Emitter, x: T, dense, heads, dim, scale=1.0) -> T:
    """EinsumDense 'abc,cde->abde' as FULLY_CONNECTED, then [B, T, H, d] -> [B, H, T, d]."""
    kernel = to_numpy(dense.kernel)  # [d_model, H, dim]
    w = kernel.reshape(kernel.shape[0], heads * dim).T * np.float32(scale)
    bias = None if dense.bias is None else to_numpy(dense.bias).reshape(-1) * np.float32(scale)
    y = em.fully_connected(x, w, bias)
    y = em.reshape(y, (x.shape[0], x.shape[1], heads, dim))
    return em.transpose(y, [0, 2, 1, 3])


def _causal_mask(em: Emitter, t, s) -> T:
    return em.const(np.triu(np.full((t, s), NEG_INF, np.float32), 1), name="causal_mask")


def multi_head_attention(em: Emitter, layer, call) -> T:
    args, kw = call.args, call.kwargs
    query = args[0]
    value = args[1] if len(args) > 1 else kw["value"]
    key = kw.get("key") or (args[2] if len(args) > 2 else None) or value
    if kw.get("attention_mask") is not None or kw.get("return_attention_scores") or kw.get("query_mask") is not None:
        raise NotImplementedError("attention_mask / masks / return_attention_scores")
    if query.rank != 3:
        raise NotImplementedError(f"rank-{query.rank} query (attention_axes)")
    heads, kd, vd = layer._num_heads, layer._key_dim, layer._value_dim
    q = _heads(em, query, layer._query_dense, heads, kd, 1.0 / np.sqrt(kd))
    k = _heads(em, key, layer._key_dense, heads, kd)
    v = _heads(em, value, layer._value_dense, heads, vd)
    scores = em.batch_matmul(q, k, adj_y=True)  # [B, H, T, S]
    if kw.get("use_causal_mask"):
        scores = em.binary("ADD", scores, _causal_mask(em, query.shape[1], key.shape[1]))
    probs = activations.softmax(em, scores)
    ctx = em.transpose(em.batch_matmul(probs, v), [0, 2, 1, 3])  # [B, T, H, vd]
    ctx = em.reshape(ctx, (query.shape[0], query.shape[1], heads * vd))
    out = layer._output_dense
    wo = to_numpy(out.kernel)
    bo = None if out.bias is None else to_numpy(out.bias)
    if wo.ndim != 3:
        raise NotImplementedError("output_shape with more than one dimension")
    return em.fully_connected(ctx, wo.reshape(heads * vd, -1).T, bo)


def check_mha(layer):
    axes = layer._attention_axes
    return None if axes in (None, (1,), [1], (-2,)) else f"attention_axes={axes}"


def attention(em: Emitter, layer, call) -> T:
    kw = call.kwargs
    if kw.get("mask") is not None or kw.get("return_attention_scores"):
        raise NotImplementedError("masks / return_attention_scores")
    tensors = call.tensors
    q, v = tensors[0], tensors[1]
    k = tensors[2] if len(tensors) > 2 else v
    if type(layer).__name__ == "AdditiveAttention":
        scale = to_numpy(layer.scale) if layer.use_scale else None
        scores = _concat_scores(em, q, k, None, scale)
    elif layer.score_mode == "concat":
        scale = float(to_numpy(layer.scale)) if layer.use_scale else None
        scores = em.scalar_op("MUL", _concat_scores(em, q, k, scale, None),
                              float(to_numpy(layer.concat_score_weight)), "concat_score_weight")
    else:
        scores = em.batch_matmul(q, k, adj_y=True)
        if layer.use_scale:
            scores = em.scalar_op("MUL", scores, float(to_numpy(layer.scale)), "scale")
    if kw.get("use_causal_mask"):
        scores = em.binary("ADD", scores, _causal_mask(em, q.shape[1], k.shape[1]))
    return em.batch_matmul(activations.softmax(em, scores), v)


def _concat_scores(em: Emitter, q: T, k: T, inner_scale, outer_scale) -> T:
    """sum(outer * tanh(inner * (q[:, :, None] + k[:, None])), -1): [B, Tq, Tv]."""
    b, tq, d = q.shape
    tv = k.shape[1]
    qe = em.op("EXPAND_DIMS", [q, em.ints([2], "axis")], (b, tq, 1, d))
    ke = em.op("EXPAND_DIMS", [k, em.ints([1], "axis")], (b, 1, tv, d))
    z = em.binary("ADD", qe, ke)
    if inner_scale is not None:
        z = em.scalar_op("MUL", z, inner_scale, "scale")
    z = em.unary("TANH", z)
    # the weighted sum over d as a FULLY_CONNECTED with one unit (LiteRT's reference int8 SUM
    # wraps around where it should saturate; the product is exact in every mode)
    w = np.ones((1, d), np.float32) if outer_scale is None else np.asarray(outer_scale, np.float32).reshape(1, d)
    return em.reshape(em.fully_connected(z, w), (b, tq, tv))


def check_attention(layer):
    mode = getattr(layer, "score_mode", "concat")
    return None if mode in ("dot", "concat") else f"score_mode={mode!r}"


# ---- recurrent layers ----------------------------------------------------------------------------

def _split(em: Emitter, x: T, n: int):
    part = (x.shape[0], x.shape[1] // n)
    return em.op("SPLIT", [em.ints([1], "axis"), x], [part] * n, {"num_splits": n})


def _steps(em: Emitter, x: T, w, bias, backwards: bool):
    """The input projection of every step: FULLY_CONNECTED over [B, T, F], UNPACK on time."""
    proj = em.fully_connected(x, w.T, bias)
    steps = x.shape[1]
    parts = em.op("UNPACK", [proj], [(x.shape[0], proj.shape[2])] * steps, {"num": steps, "axis": 1})
    parts = parts if isinstance(parts, list) else [parts]
    return parts[::-1] if backwards else parts


def _recurrent(em: Emitter, h: T | None, u, bias_r=None):
    """h @ U (+ recurrent bias); a constant bias alone on the first step (h = 0)."""
    if h is None:
        return None if bias_r is None else em.const(bias_r, name="recurrent_bias")
    return em.fully_connected(h, u.T, bias_r)


def _add(em: Emitter, a: T, b: T | None) -> T:
    return a if b is None else em.binary("ADD", a, b)


def _names(cell):
    return (activations.activation_name(cell.activation), activations.activation_name(cell.recurrent_activation))


def _lstm_steps(em: Emitter, layer, x: T):
    cell, w = layer.cell, weights(layer)
    act, rec = _names(cell)
    h = c = None
    outs = []
    for xt in _steps(em, x, w["kernel"], w.get("bias"), layer.go_backwards):
        z = _add(em, xt, _recurrent(em, h, w["recurrent_kernel"]))
        i, f, g, o = _split(em, z, 4)
        i, f, o = (activations.emit(em, t, rec) for t in (i, f, o))
        g = activations.emit(em, g, act)
        c = em.binary("MUL", i, g) if c is None else em.binary("ADD", em.binary("MUL", f, c), em.binary("MUL", i, g))
        h = em.binary("MUL", o, activations.emit(em, c, act))
        outs.append(h)
    return outs, [h, c]


def _gru_steps(em: Emitter, layer, x: T):
    cell, w = layer.cell, weights(layer)
    act, rec = _names(cell)
    units = cell.units
    bias = w.get("bias")
    b_in, b_rec = (bias[0], bias[1]) if bias is not None and bias.ndim == 2 else (bias, None)
    u = w["recurrent_kernel"]
    h = None
    outs = []
    for xt in _steps(em, x, w["kernel"], b_in, layer.go_backwards):
        xz, xr, xh = _split(em, xt, 3)
        if cell.reset_after:
            if h is not None:
                rz, rr, rh = _split(em, _recurrent(em, h, u, b_rec), 3)
            elif b_rec is not None:  # the first step's recurrent part is the bias alone
                rz, rr, rh = (em.const(b_rec[k * units:(k + 1) * units], name="recurrent_bias") for k in range(3))
            else:
                rz = rr = rh = None
            z = activations.emit(em, _add(em, xz, rz), rec)
            r = activations.emit(em, _add(em, xr, rr), rec)
            hh_in = xh if rh is None else em.binary("ADD", xh, em.binary("MUL", r, rh))
        else:
            rz = _recurrent(em, h, u[:, :units])
            rr = _recurrent(em, h, u[:, units:2 * units])
            z = activations.emit(em, _add(em, xz, rz), rec)
            r = activations.emit(em, _add(em, xr, rr), rec)
            hh_in = xh if h is None else em.binary("ADD", xh, _recurrent(em, em.binary("MUL", r, h), u[:, 2 * units:]))
        hh = activations.emit(em, hh_in, act)
        # h = z * h_prev + (1 - z) * hh = hh + z * (h_prev - hh)
        h = em.binary("SUB", hh, em.binary("MUL", z, hh)) if h is None else \
            em.binary("ADD", hh, em.binary("MUL", z, em.binary("SUB", h, hh)))
        outs.append(h)
    return outs, [h]


def _simple_steps(em: Emitter, layer, x: T):
    cell, w = layer.cell, weights(layer)
    act = activations.activation_name(cell.activation)
    h = None
    outs = []
    for xt in _steps(em, x, w["kernel"], w.get("bias"), layer.go_backwards):
        h = activations.emit(em, _add(em, xt, _recurrent(em, h, w["recurrent_kernel"])), act)
        outs.append(h)
    return outs, [h]


STEPS = {"LSTM": _lstm_steps, "GRU": _gru_steps, "SimpleRNN": _simple_steps}


def _sequence(em: Emitter, outs) -> T:
    b, units = outs[0].shape
    return em.op("PACK", outs, (b, len(outs), units), {"values_count": len(outs), "axis": 1})


def run_rnn(em: Emitter, layer, x: T):
    outs, states = STEPS[type(layer).__name__](em, layer, x)
    return (_sequence(em, outs) if layer.return_sequences else outs[-1]), states


def rnn(em: Emitter, layer, call):
    kw = call.kwargs
    if kw.get("initial_state") is not None or kw.get("mask") is not None or len(call.tensors) != 1:
        raise NotImplementedError("initial_state / mask")
    out, states = run_rnn(em, layer, call.x)
    return [out, *states] if layer.return_state else out


def check_rnn(layer):
    if layer.stateful:
        return "stateful=True"
    cell = layer.cell
    names = [activations.activation_name(cell.activation)]
    if hasattr(cell, "recurrent_activation"):
        names.append(activations.activation_name(cell.recurrent_activation))
    bad = [n for n in names if not activations.known(n)]
    return f"activation {bad[0]!r}" if bad else None


def bidirectional(em: Emitter, layer, call):
    if layer.return_state or call.kwargs.get("initial_state") is not None or call.kwargs.get("mask") is not None:
        raise NotImplementedError("return_state / initial_state / mask")
    fwd, _ = run_rnn(em, layer.forward_layer, call.x)
    bwd, _ = run_rnn(em, layer.backward_layer, call.x)
    if layer.backward_layer.return_sequences:  # Keras gives the backward sequence in input order
        bwd = _reverse_time(em, bwd)
    mode = layer.merge_mode
    if mode == "concat":
        return em.concat([fwd, bwd], -1)
    if mode == "sum":
        return em.binary("ADD", fwd, bwd)
    if mode == "mul":
        return em.binary("MUL", fwd, bwd)
    if mode == "ave":
        return em.scalar_op("MUL", em.binary("ADD", fwd, bwd), 0.5)
    return [fwd, bwd]


def _reverse_time(em: Emitter, x: T) -> T:
    """x[:, ::-1] as UNPACK + PACK (eightbit has no REVERSE_V2 kernel)."""
    steps = x.shape[1]
    parts = em.op("UNPACK", [x], [(x.shape[0], x.shape[2])] * steps, {"num": steps, "axis": 1})
    parts = parts if isinstance(parts, list) else [parts]
    return _sequence(em, parts[::-1])


def check_bidirectional(layer):
    if type(layer.forward_layer).__name__ not in STEPS:
        return f"wraps {type(layer.forward_layer).__name__}"
    return check_rnn(layer.forward_layer) or check_rnn(layer.backward_layer)


RULES = {
    "MultiHeadAttention": (multi_head_attention, check_mha, "call"),
    "Attention": (attention, check_attention, "call"),
    "AdditiveAttention": (attention, check_attention, "call"),
    "LSTM": (rnn, check_rnn, "call"),
    "GRU": (rnn, check_rnn, "call"),
    "SimpleRNN": (rnn, check_rnn, "call"),
    "Bidirectional": (bidirectional, check_bidirectional, "call"),
}
