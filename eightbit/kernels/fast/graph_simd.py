"""An eight-lane float32 multiply-add loop for the whole-graph CONV_2D (graph_conv.py), written in LLVM IR.

numba leaves eight scalar accumulators scalar (the SLP vectorizer does not take them) and keeps an
accumulator array in memory (its loop over a handful of channels then costs more in alias checks
than in arithmetic). `block8_f32` holds the eight sums of eight output channels in one <8 x float>
register over all the taps of a pixel: each step is one fmul and one fadd (separate instructions
without fast-math flags: LLVM never fuses them into an FMA), so every lane rounds exactly as the
reference's `total += input * filter`, in the same order.
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.extending import intrinsic


def _sum_taps_by_channels(builder, ptrs, nt_v, c_v, oc_v, ob_v, vec, lane, combine):
    """The two nested loops both intrinsics run: for t < nt, for ci < c, splat lane(x[tx[t]+ci])
    and fold it with the 8 filter values at w[tw[t]+ob+ci*oc] into the accumulator vector
    (combine(builder, acc, splat, wv)); returns the final <8 x ...> sum, built as phi nodes so it
    stays in a register."""
    xp, wp, txp, twp = ptrs
    i32, i64 = ir.IntType(32), ir.IntType(64)
    fn = builder.function
    pre = builder.block
    t_head, t_body = fn.append_basic_block("t_head"), fn.append_basic_block("t_body")
    c_head, c_body = fn.append_basic_block("c_head"), fn.append_basic_block("c_body")
    t_next, done = fn.append_basic_block("t_next"), fn.append_basic_block("done")
    builder.branch(t_head)
    builder.position_at_end(t_head)  # for t in range(nt): (the taps)
    t = builder.phi(i64)
    acc_t = builder.phi(vec)
    t.add_incoming(ir.Constant(i64, 0), pre)
    acc_t.add_incoming(ir.Constant(vec, [0] * 8), pre)
    builder.cbranch(builder.icmp_signed("<", t, nt_v), t_body, done)
    builder.position_at_end(t_body)
    xb = builder.load(builder.gep(txp, [t]))
    wb = builder.add(builder.load(builder.gep(twp, [t])), ob_v)
    builder.branch(c_head)
    builder.position_at_end(c_head)  # for ci in range(c): (the input channels)
    ci = builder.phi(i64)
    acc_c = builder.phi(vec)
    ci.add_incoming(ir.Constant(i64, 0), t_body)
    acc_c.add_incoming(acc_t, t_body)
    builder.cbranch(builder.icmp_unsigned("<", ci, c_v), c_body, t_next)
    builder.position_at_end(c_body)
    v = lane(builder, builder.load(builder.gep(xp, [builder.add(xb, ci)])))
    wrow = builder.gep(wp, [builder.add(wb, builder.mul(ci, oc_v))])
    wv = builder.load(builder.bitcast(wrow, vec.as_pointer()), align=4)
    lane0 = builder.insert_element(ir.Constant(vec, ir.Undefined), v, ir.Constant(i32, 0))
    splat = builder.shuffle_vector(lane0, ir.Constant(vec, ir.Undefined), ir.Constant(ir.VectorType(i32, 8), [0] * 8))
    ci.add_incoming(builder.add(ci, ir.Constant(i64, 1)), c_body)
    acc_c.add_incoming(combine(builder, acc_c, splat, wv), c_body)
    builder.branch(c_head)
    builder.position_at_end(t_next)
    t.add_incoming(builder.add(t, ir.Constant(i64, 1)), t_next)
    acc_t.add_incoming(acc_c, t_next)
    builder.branch(t_head)
    builder.position_at_end(done)
    return acc_t


def _store8(builder, value, base, offset, vec):
    out = builder.gep(base, [offset])
    builder.store(value, builder.bitcast(out, vec.as_pointer()), align=4)


@intrinsic
def block8_f32(typingctx, x, w, tx, tw, nt, c, oc, ob, y, yb):
    """y[yb+ob : yb+ob+8] = sum over taps t < nt, channels ci < c of x[tx[t]+ci] * w[tw[t]+ob+ci*oc : +8]
    (float32, one rounding per product and per sum, in (t, ci) order), 8 lanes in one vector register."""
    sig = types.void(x, w, tx, tw, types.int64, types.uint64, types.uint64, types.uint64, y, types.uint64)

    def codegen(context, builder, signature, args):
        xa, wa, txa, twa, nt_v, c_v, oc_v, ob_v, ya, yb_v = args
        xp, wp, txp, twp, yp = (context.make_array(ty)(context, builder, val).data
                                for ty, val in ((x, xa), (w, wa), (tx, txa), (tw, twa), (y, ya)))
        vec = ir.VectorType(ir.FloatType(), 8)
        total = _sum_taps_by_channels(builder, (xp, wp, txp, twp), nt_v, c_v, oc_v, ob_v, vec,
                                      lambda b, raw: raw,
                                      lambda b, acc, splat, wv: b.fadd(acc, b.fmul(splat, wv)))
        _store8(builder, total, yp, builder.add(yb_v, ob_v), vec)
        return context.get_dummy_value()

    return sig, codegen


@intrinsic
def block8_i32(typingctx, x, w, tx, tw, nt, c, oc, ob, in_zp, acc):
    """acc[ob : ob+8] = sum over taps t < nt, channels ci < c of (x[tx[t]+ci] - in_zp) * w[tw[t]+ob+ci*oc : +8]
    in int32 lanes that wrap: the reference's exact sum wrapped to int32 (what its requantization
    takes), for int8 or uint8 x and an int32 filter."""
    sig = types.void(x, w, tx, tw, types.int64, types.uint64, types.uint64, types.uint64, types.int64, acc)
    signed = x.dtype.signed

    def codegen(context, builder, signature, args):
        xa, wa, txa, twa, nt_v, c_v, oc_v, ob_v, zp_v, acca = args
        xp, wp, txp, twp, accp = (context.make_array(ty)(context, builder, val).data
                                  for ty, val in ((x, xa), (w, wa), (tx, txa), (tw, twa), (acc, acca)))
        i32 = ir.IntType(32)
        vec = ir.VectorType(i32, 8)
        zp32 = builder.trunc(zp_v, i32)

        def lane(b, raw):
            return b.sub(b.sext(raw, i32) if signed else b.zext(raw, i32), zp32)

        total = _sum_taps_by_channels(builder, (xp, wp, txp, twp), nt_v, c_v, oc_v, ob_v, vec, lane,
                                      lambda b, acc_v, splat, wv: b.add(acc_v, b.mul(splat, wv)))
        _store8(builder, total, accp, ob_v, vec)
        return context.get_dummy_value()

    return sig, codegen
