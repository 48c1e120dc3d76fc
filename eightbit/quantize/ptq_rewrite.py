"""PTQ stages "rewrite types" and "finish": quantized operators' tensors change type, QUANTIZE /
DEQUANTIZE go where the float and integer domains meet (graph inputs and outputs, float
operators), conflicting shared parameters get a requantizing QUANTIZE, and the operator list is
rebuilt with the integer kernels' options."""

from __future__ import annotations

from eightbit.passes.graph import add_tensor, new_op
from eightbit.quantize import params as P
from eightbit.quantize.ptq_state import PtqState, Report, params_of, qparams


class _Rewrite:
    """The per-tensor rewrite of `rewrite_types`: what reads each float tensor, and the edits."""

    def __init__(self, st: PtqState, input_type: str, output_type: str):
        self.st, self.sg = st, st.sg
        self.input_type, self.output_type = input_type, output_type
        self.prod = st.sg.producers()
        sg, n = st.sg, st.n_tensors
        self.graph_inputs = [t for t in sg.inputs if sg.tensors[t].type == "FLOAT32"]
        self.graph_outputs = [t for t in sg.outputs if t < n and sg.tensors[t].type == "FLOAT32"]
        self.q_reads: dict = {}  # tensor -> [(k, pos)] quantized operators reading it as an activation
        self.f_reads: dict = {}  # tensor -> [(k, pos)] float operators reading it
        for k, op in enumerate(sg.operators):
            for p, t in enumerate(op.inputs):
                if t < 0 or t >= n or sg.tensors[t].type != "FLOAT32" or sg.tensors[t].is_constant:
                    continue
                if k in st.plans and p in st.plans[k].act_in:
                    self.q_reads.setdefault(t, []).append((k, p))
                elif k not in st.plans:
                    self.f_reads.setdefault(t, []).append((k, p))

    def io_params(self, t: int, io_type: str) -> P.Params:
        st = self.st
        if io_type == st.act:
            return st.params[t] if t in st.params else P.activation_params(*st.ranges[t], st.act)
        if io_type == "UINT8":
            base = st.params[t] if t in st.params and st.act == "INT8" else P.activation_params(*st.ranges[t], "INT8")
            return P.to_uint8(base)
        return P.activation_params(*st.ranges[t], io_type)

    def set_quantized(self, t: int, p: P.Params) -> None:
        tt = self.sg.tensors[t]
        tt.type = p.type
        tt.quantization = qparams(p)

    def float_copy_for_readers(self, t: int, q: int, ops: list) -> None:
        """Float readers of t read a DEQUANTIZE of q (appended to ops)."""
        tt = self.sg.tensors[t]
        f = add_tensor(self.sg, "tfl.dequantize", tt.shape, "FLOAT32", like=tt)
        ops.append(new_op("DEQUANTIZE", [q], [f]))
        for kk, pos in self.f_reads.get(t, []):
            self.sg.operators[kk].inputs[pos] = f

    def graph_input(self, t: int) -> None:
        st, sg, tt = self.st, self.sg, self.sg.tensors[t]
        p, qr, fr = st.params.get(t), self.q_reads.get(t, []), self.f_reads.get(t, [])
        if self.input_type == "FLOAT32":
            if qr:
                q = add_tensor(sg, "tfl.quantize", tt.shape, st.act, qparams(p), like=tt)
                st.start.append(new_op("QUANTIZE", [t], [q]))
                st.quantized_tensor[t] = q
            return
        ip = self.io_params(t, self.input_type)
        float_copy = add_tensor(sg, "tfl.dequantize", tt.shape, "FLOAT32", like=tt) if fr else None
        self.set_quantized(t, ip)
        if fr:
            st.start.append(new_op("DEQUANTIZE", [t], [float_copy]))
            for k, pos in fr:
                sg.operators[k].inputs[pos] = float_copy
        if qr:
            if self.input_type == st.act:
                st.quantized_tensor[t] = t
                return
            q = add_tensor(sg, "tfl.quantize", tt.shape, st.act,
                           qparams(p if p is not None else self.io_params(t, st.act)), like=tt)
            st.start.append(new_op("QUANTIZE", [t], [q]))
            st.quantized_tensor[t] = q

    def quantized_result(self, t: int) -> None:
        """t is produced by a quantized operator."""
        st, sg, tt = self.st, self.sg, self.sg.tensors[t]
        k, p = self.prod[t], st.params.get(t)
        if t in self.graph_outputs and self.output_type != st.act:
            q = add_tensor(sg, tt.name, tt.shape, st.act, qparams(p), like=tt)
            sg.operators[k].outputs = [q if o == t else o for o in sg.operators[k].outputs]
            st.quantized_tensor[t] = q
            if self.output_type == "FLOAT32":
                st.after.setdefault(k, []).append(new_op("DEQUANTIZE", [q], [t]))
                return
            self.set_quantized(t, self.io_params(t, self.output_type))
            st.after.setdefault(k, []).append(new_op("QUANTIZE", [q], [t]))
            if self.f_reads.get(t):
                self.float_copy_for_readers(t, q, st.after[k])
            return
        self.set_quantized(t, p)
        st.quantized_tensor[t] = t
        if self.f_reads.get(t):
            self.float_copy_for_readers(t, t, st.after.setdefault(k, []))

    def float_result(self, t: int) -> None:
        """t is produced by a float operator (or is a float graph input)."""
        st, sg, tt = self.st, self.sg, self.sg.tensors[t]
        if self.q_reads.get(t):
            q = add_tensor(sg, "tfl.quantize", tt.shape, st.act, qparams(st.params.get(t)), like=tt)
            k = self.prod.get(t)
            (st.after.setdefault(k, []) if k is not None else st.start).append(new_op("QUANTIZE", [t], [q]))
            st.quantized_tensor[t] = q
        if t in self.graph_outputs and self.output_type != "FLOAT32":
            k = self.prod.get(t)
            f = add_tensor(sg, tt.name, tt.shape, "FLOAT32", like=tt)
            if k is not None:
                sg.operators[k].outputs = [f if o == t else o for o in sg.operators[k].outputs]
            for kk, pos in self.f_reads.get(t, []):
                sg.operators[kk].inputs[pos] = f
            if t in st.quantized_tensor:  # the QUANTIZE for quantized readers now reads the float copy
                for o in st.after.get(k, []) if k is not None else st.start:
                    o.inputs = [f if i == t else i for i in o.inputs]
            self.set_quantized(t, self.io_params(t, self.output_type))
            st.end.append(new_op("QUANTIZE", [f], [t]))


def rewrite_types(st: PtqState, input_type: str, output_type: str) -> None:
    """Change the types of quantized tensors and insert QUANTIZE / DEQUANTIZE at the domain
    boundaries (float or integer graph I/O as asked)."""
    rw = _Rewrite(st, input_type, output_type)
    for t in rw.graph_inputs + rw.graph_outputs:
        io_type = input_type if t in rw.graph_inputs else output_type
        if t not in st.params and t in st.ranges and io_type != "FLOAT32":
            st.params[t] = P.activation_params(*st.ranges[t], st.act)
    q_producer = {t: k in st.plans for t, k in rw.prod.items()}
    for t in range(st.n_tensors):
        tt = st.sg.tensors[t]
        if tt.type != "FLOAT32" or tt.is_constant:
            continue
        is_in, is_out = t in rw.graph_inputs, t in rw.graph_outputs
        produced_q = q_producer.get(t, False)
        if not (produced_q or rw.q_reads.get(t) or (is_in and input_type != "FLOAT32")
                or (is_out and output_type != "FLOAT32")):
            continue
        if is_in:
            rw.graph_input(t)
        elif produced_q:
            rw.quantized_result(t)
        else:
            rw.float_result(t)


def requantize_shared(st: PtqState, report: Report) -> None:
    """Quantized operators read quantized tensors; where a same-scale operator's tensors carry
    other parameters than the shared ones, a requantizing QUANTIZE goes in between."""
    sg = st.sg
    for k, pl in st.plans.items():
        op = sg.operators[k]
        for p in pl.act_in:
            t = op.inputs[p]
            if (k, p) not in st.new_inputs and t in st.quantized_tensor:
                op.inputs[p] = st.quantized_tensor[t]
        for (kk, p), i in st.new_inputs.items():
            if kk == k:
                op.inputs[p] = i
        if not pl.same_scale:
            continue
        ref = st.op_ref.get(k)
        for p in pl.linked_in:
            t = op.inputs[p]
            src = params_of(sg.tensors[t])
            if src is None or ref is None or src.same(ref) or sg.tensors[t].is_constant:
                continue
            r = add_tensor(sg, sg.tensors[t].name + "_requantized", sg.tensors[t].shape, ref.type, qparams(ref),
                           like=sg.tensors[t])
            st.before.setdefault(k, []).append(new_op("QUANTIZE", [t], [r]))
            op.inputs[p] = r
            report.requantize_ops += 1
        for p in pl.act_out:
            t = op.outputs[p]
            cur = params_of(sg.tensors[t])
            if cur is None or ref is None or cur.same(ref):
                continue
            r = add_tensor(sg, sg.tensors[t].name + "_requantize_src", sg.tensors[t].shape, ref.type, qparams(ref),
                           like=sg.tensors[t])
            op.outputs[p] = r
            st.after.setdefault(k, []).insert(0, new_op("QUANTIZE", [r], [t]))
            report.requantize_ops += 1


def finish(st: PtqState, report: Report) -> None:
    """Integer kernels' options (int16: general-scale ADD / SUB, int64 bias types), the count of
    quantized operators, and the operator list with the inserted operators in place."""
    sg = st.sg
    for k, pl in st.plans.items():
        op = sg.operators[k]
        report.quantized_ops[op.op_type] = report.quantized_ops.get(op.op_type, 0) + 1
        if st.act == "INT16":
            if op.op_type in ("ADD", "SUB"):
                op.options["pot_scale_int16"] = False
                op.options_type = op.options_type or pl.spec.options
            if op.op_type in ("CONV_2D", "FULLY_CONNECTED", "TRANSPOSE_CONV") and pl.bias is not None:
                op.options["quantized_bias_type"] = 4  # TensorType INT64
                op.options_type = op.options_type or pl.spec.options
    ops = list(st.start)
    for k, op in enumerate(sg.operators):
        ops.extend(st.before.get(k, []))
        ops.append(op)
        ops.extend(st.after.get(k, []))
    ops.extend(st.end)
    sg.operators = ops
