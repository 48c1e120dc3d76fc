"""Runs one subgraph: prepares every kernel once, then evaluates operators in order.

Errors, by stage (the contract tests/unit/test_malformed.py checks on mutated files):
  construction  ModelError (UnsupportedOpError lists every operator we cannot run)
  allocate      ModelError (a kernel's prepare rejected the operator: it names it) or ValueError
  invoke        ValueError (inputs not set / wrong) or RuntimeError naming the failing operator;
                after a resize whose shapes could not be worked out from neutral inputs, also the
                operator that cannot take the new shapes (LiteRT says so in allocate_tensors)
Nothing else escapes: a kernel's IndexError or MemoryError is wrapped with the operator's name.
"""

from __future__ import annotations

import time

import numpy as np

from eightbit.errors import ModelError, UnsupportedOpError
from eightbit.interpreter import fastpath, graph_runner, prepared, shapes
from eightbit.interpreter.plan import SHAPE_ONLY, build_plan, run_plan
from eightbit.interpreter.subgraphs import (
    Session,
    allocate_lazily,
    bind_kernel,
    is_stateful,
    run_lazily,
    variable_default,
)
from eightbit.ir import Model
from eightbit.kernels.base import OpContext, TensorInfo, UnsupportedTypeError
from eightbit.kernels.fast import workspace
from eightbit.kernels.registry import get_kernel


def unsupported_ops(model: Model, subgraph_index: int = 0) -> list:
    """(name, version, count, reason) for every operator type that has no kernel, counted over
    every subgraph (a WHILE body's operators run too); custom ops are marked as such."""
    found: dict = {}
    for sg in model.subgraphs:
        for op in sg.operators:
            if kernel_for(op) is None:
                key = (op.name, op.version, op.op_type == "CUSTOM")
                found[key] = found.get(key, 0) + 1
    return [(n, v, c, "custom op: register a kernel with eightbit.register_custom_op" if custom else "no kernel")
            for (n, v, custom), c in sorted(found.items())]


def kernel_for(op):
    """The kernel class of an operator: a builtin's from the registry, a custom op's from
    eightbit.register_custom_op."""
    if op.op_type == "CUSTOM":
        from eightbit.kernels.custom import get_custom_kernel

        return get_custom_kernel(op.custom_code or "")
    return get_kernel(op.op_type)


class SubgraphRunner:
    def __init__(self, model: Model, subgraph_index: int = 0, preserve_all_tensors: bool = False,
                 session: Session | None = None, lazy: bool = False, kernels: str = "fast",
                 model_digest=None):
        self.model = model
        self.subgraph_index = subgraph_index
        # () -> sha256 hex of the file the model was read from, for the prepared-params cache
        # (prepared.py); None: not cached (an IR Model given directly can change after load).
        self.model_digest = model_digest
        self.params_from_cache = False
        if not 0 <= subgraph_index < len(model.subgraphs):
            raise ModelError(f"subgraph {subgraph_index} out of range 0..{len(model.subgraphs) - 1}")
        self.sg = model.subgraphs[subgraph_index]
        self.preserve_all = preserve_all_tensors
        # Stateful kernels (control flow, resource variables) are bound to the interpreter's
        # session; a graph holding one is prepared operator by operator at invoke (subgraphs.py).
        self.session = session if session is not None else Session(model, kernels)
        self.kernel_mode = kernels  # "fast" or "reference" (fastpath.py picks each operator's kernel)
        chosen = fastpath.choose_kernels(self.sg.operators, [kernel_for(op) for op in self.sg.operators], kernels,
                                        model=model)
        self.kernels = [bind_kernel(k, self.session) for k in chosen]
        self.lazy = lazy or any(is_stateful(k) for k in self.kernels)
        self.shapes = [tuple(int(d) for d in t.shape) for t in self.sg.tensors]
        self.dtypes = [t.dtype for t in self.sg.tensors]
        self.constants = {}
        for i, t in enumerate(self.sg.tensors):
            if t.is_constant:
                # Sparse constants: the stored values (TensorInfo carries the sparsity structure).
                # Views on the file's bytes (read-only), copied only when the file misaligns them.
                value = t.data if t.sparsity is None else t.stored_values
                if value is not None and not value.flags.aligned:
                    value = value.copy()
                self.constants[i] = value
        produced = {i for op in self.sg.operators for i in op.outputs}
        for i, t in enumerate(self.sg.tensors):
            # Zero-element constants (an empty axis list) carry no bytes but are still constants.
            if i not in self.constants and i not in produced and i not in self.sg.inputs and 0 in t.shape:
                self.constants[i] = np.zeros(t.shape, t.dtype)
        self.values: dict = {}
        self.arena = None  # the plan's big outputs (kernels/fast/workspace.py), or None
        self.params = None
        self._plan = None  # (params it was built for, steps): see plan.py
        self._graph = None  # the whole-graph program of small models (graph_runner.py), or None
        self.shapes_dirty = False
        self.deferred_shapes = False  # shapes to work out at invoke, from the real inputs
        self._last_use = self._compute_last_use()
        missing = unsupported_ops(model, subgraph_index)
        if missing:
            # Say everything at once: also the operators whose kernel exists but rejects the types.
            raise UnsupportedOpError(missing + self._type_problems())

    # ---- allocation -------------------------------------------------------------------
    def _compute_last_use(self) -> dict:
        last = {}
        for i, op in enumerate(self.sg.operators):
            for t in op.inputs:
                if t >= 0:
                    last[t] = i
        for t in self.sg.outputs:
            last[t] = len(self.sg.operators)
        return last

    def resize_input(self, tensor_index: int, shape) -> None:
        shape = tuple(int(d) for d in shape)
        if any(d < 0 for d in shape):
            raise ValueError(f"cannot resize tensor {tensor_index} to {list(shape)}: negative dimension")
        if shape != self.shapes[tensor_index]:
            self.shapes[tensor_index] = shape
            self.shapes_dirty = True

    def allocate(self, force: bool = False) -> None:
        """Prepare every kernel for the current shapes (again only after a resize or when forced)."""
        if self.lazy:
            return allocate_lazily(self)
        if self.params is not None and not self.shapes_dirty and not force:
            return
        if self.shapes_dirty:
            self.params = None
            saved = list(self.shapes)
            try:
                if not shapes.apply_inferred_shapes(self):  # shape rules; else run the graph once
                    self._propagate_shapes(self._neutral_inputs())
            except ModelError:
                raise
            except (RuntimeError, ValueError):
                # Some graphs cannot run on made-up inputs (a strides tensor fed by the user, a
                # quantized SQRT of a value below its zero point): work the shapes out at invoke,
                # from the real inputs, as LiteRT would fail or succeed there.
                self.shapes = saved
                self.deferred_shapes = True
                return
            self.shapes_dirty = False
        self.deferred_shapes = False
        self.arena = None  # laid out for the old shapes
        self.params = self._prepare_or_load()
        self._graph = graph_runner.build(self)
        for i, t in enumerate(self.sg.tensors):
            if t.is_variable and i not in self.constants and self.values.get(i) is None:
                self.values[i] = variable_default(t, self.shapes[i])  # zero (int8: its zero point), as TFLite

    def _neutral_inputs(self) -> dict:
        """Inputs for shape propagation: real 0.0 everywhere (the zero point of quantized inputs)."""
        out = {}
        for i in self.sg.inputs:
            t = self.sg.tensors[i]
            fill = int(t.quantization.zero_point[0]) if t.quantized and t.quantization.zero_point.size else 0
            out[i] = np.full(self.shapes[i], fill, t.dtype)
        return out

    def _propagate_shapes(self, inputs: dict) -> None:
        # Shapes after resize_tensor_input come from running the graph once on `inputs` (neutral
        # values at allocate, the real ones when that failed), operator by operator: each kernel
        # is prepared with its inputs' new shapes, so none of the shape rules is written twice.
        # Intermediates are freed as in a normal run.
        values = dict(inputs)
        # Copies: a kernel that updates its variables in place (LSTM state) must not change them here.
        values.update({i: v.copy() for i, v in self.values.items() if self.sg.tensors[i].is_variable})
        with np.errstate(all="ignore"):
            for k, (op, kernel) in enumerate(zip(self.sg.operators, self.kernels)):
                params = self._prepare_one(k, op, kernel)
                args = [None if i < 0 else self.constants[i] if i in self.constants else values.get(i)
                        for i in op.inputs]
                for i, a in zip(op.inputs, args):
                    if i >= 0 and a is None:
                        raise RuntimeError(f"tensor {i} ({self.sg.tensors[i].name!r}) has no value when "
                                           f"operator {k} ({op.name}) needs it")
                for i, v in zip(op.outputs, self._eval_one(k, op, kernel, params, args)):
                    if i >= 0:
                        values[i] = v
                        self.shapes[i] = tuple(v.shape)
                for i in op.inputs:
                    if i >= 0 and self._last_use.get(i) == k and i not in self.sg.outputs:
                        values.pop(i, None)
        self.values = {i: v for i, v in self.values.items()
                       if (i in self.sg.inputs or self.sg.tensors[i].is_variable) and v.shape == self.shapes[i]}

    def tensor_info(self, i: int) -> TensorInfo | None:
        if i < 0:
            return None
        t = self.sg.tensors[i]
        q = t.quantization if t.quantized else None
        sparse = t.sparsity is not None and i in self.constants
        return TensorInfo(
            name=t.name, type=t.type, dtype=t.dtype, shape=self.shapes[i],
            scales=q.scale if q else None, zero_points=q.zero_point if q else None,
            quantized_dimension=q.quantized_dimension if q else 0,
            data=None if sparse else self.constants.get(i), index=i,
            sparsity=t.sparsity if sparse else None,
            sparse_values=self.constants[i] if sparse else None,
        )

    def op_context(self, k: int) -> OpContext:
        op = self.sg.operators[k]
        return OpContext(
            op_type=op.op_type, version=op.version, options=op.options,
            inputs=[self.tensor_info(i) for i in op.inputs],
            outputs=[self.tensor_info(i) for i in op.outputs],
            index=k, custom_options=op.custom_options, extra=op.extra,
            intermediates=[self.tensor_info(i) for i in op.intermediates],
        )

    def _prepare_one(self, k, op, kernel):
        try:
            return kernel.prepare(self.op_context(k))
        except ModelError:
            raise
        except Exception as e:  # a kernel bug or an input we did not foresee: say where
            raise ModelError(f"cannot prepare operator {k} ({op.name} v{op.version}): {type(e).__name__}: {e}") from e

    def _prepare_each(self, skip_model_errors: bool) -> tuple[list, list]:
        """(params per operator, UnsupportedOpError entries for the ones whose types no kernel runs)."""
        params, problems = [], {}
        for k, (op, kernel) in enumerate(zip(self.sg.operators, self.kernels)):
            try:
                params.append(None if kernel is None else self._prepare_one(k, op, kernel))
            except UnsupportedTypeError as e:
                key = (op.name, op.version, str(e).split(": ", 1)[-1])
                problems[key] = problems.get(key, 0) + 1
                params.append(None)
            except ModelError:
                if not skip_model_errors:
                    raise
                params.append(None)  # reported once the model's other operators exist
        return params, [(n, v, c, why) for (n, v, why), c in problems.items()]

    def _type_problems(self) -> list:
        return self._prepare_each(skip_model_errors=True)[1]

    def _prepare_or_load(self) -> list:
        """Every operator's params: from the prepared-params cache when it holds them for this
        model, these shapes and this environment, else prepared (and stored when worth it)."""
        key = self._prepared_key()
        if key is not None:
            params = prepared.load(key, len(self.sg.operators))
            self.params_from_cache = params is not None
            if params is not None:
                return params
        start = time.perf_counter()
        params = self._prepare_all()
        if key is not None and time.perf_counter() - start >= prepared.MIN_PREPARE_SECONDS:
            prepared.store(key, params)
        return params

    def _prepared_key(self) -> bytes | None:
        if self.model_digest is None or self.preserve_all or not prepared.enabled():
            return None
        names = [prepared.kernel_name(k) for k in self.kernels]
        if None in names:  # a kernel from outside eightbit (a custom op): its code is not in the key
            return None
        return prepared.entry_key(self.model_digest(), self.subgraph_index, self.shapes, self.kernel_mode, names)

    def _prepare_all(self) -> list:
        params, problems = self._prepare_each(skip_model_errors=False)
        if problems:
            raise UnsupportedOpError(problems)
        return params

    # ---- execution --------------------------------------------------------------------
    def _eval_one(self, k, op, kernel, params, args):
        """One operator's outputs, checked (count, dtypes); errors name the operator."""
        try:
            # Float overflow to inf and NaN are results, as in TFLite, not something to warn about.
            with np.errstate(over="ignore", invalid="ignore"):
                result = kernel.eval(params, *args)
        except Exception as e:
            raise RuntimeError(f"operator {k} ({op.name} v{op.version}) failed: {type(e).__name__}: {e}") from e
        return self._checked_result(k, op, result)

    def _checked_result(self, k, op, result) -> tuple:
        """A kernel's result as a tuple, after checking its count and dtypes against the model."""
        if not isinstance(result, (tuple, list)):
            result = (result,)
        if len(result) != len(op.outputs):
            raise RuntimeError(f"operator {k} ({op.name}) returned {len(result)} outputs, expected {len(op.outputs)}")
        for i, v in zip(op.outputs, result):
            if i < 0:
                continue
            want = self.sg.tensors[i].dtype
            if not isinstance(v, np.ndarray) or v.dtype != want:
                got = v.dtype if isinstance(v, np.ndarray) else type(v).__name__
                raise RuntimeError(
                    f"operator {k} ({op.name}) produced {got} for tensor {i} "
                    f"({self.sg.tensors[i].name!r}), which is {want}"
                )
        return result

    def _check_inputs_set(self) -> None:
        values = self.values
        for i in self.sg.inputs:
            if values.get(i) is None and i not in self.constants:
                raise ValueError(f"input tensor {i} ({self.sg.tensors[i].name!r}) was not set")

    def _allocate_from_real_inputs(self) -> None:
        self._check_inputs_set()
        self._propagate_shapes({i: self.values[i] for i in self.sg.inputs if i not in self.constants})
        self.shapes_dirty = False
        self.deferred_shapes = False
        self.arena = None
        self.params = self._prepare_all()

    def run(self, keep_all: bool | None = None, observe=None) -> None:
        """Run the subgraph on self.values. observe(i, value), when given, sees each tensor an
        operator produces, as it is produced (calibration records ranges without keeping them)."""
        keep_all = self.preserve_all if keep_all is None else keep_all
        if self.lazy:
            if observe is not None:
                raise ValueError("observe= is not supported for subgraphs with control flow or variables")
            return run_lazily(self, keep_all)
        if self.deferred_shapes and self.shapes_dirty:
            self._allocate_from_real_inputs()
        if self.params is None or self.shapes_dirty:
            raise ValueError("call allocate_tensors() before invoke()")
        self._check_inputs_set()
        graph = self._graph
        if graph is not None and observe is None and not keep_all and graph.params is self.params \
                and graph.run(self.values):
            return None
        plan = self._plan
        if plan is not None and plan[0] is self.params:
            return run_plan(self, plan[1], keep_all, observe)
        steps = build_plan(self, {})  # no reshape bound to a shape yet
        seen = self._run_checked(steps, keep_all, observe)
        # The checks of that first run hold for these params: later runs follow the plan (the
        # same steps unless a shape-only operator can now be bound to the shape it produced).
        if any(op.op_type in SHAPE_ONLY for op in self.sg.operators):
            steps = build_plan(self, seen)
        self._plan = (self.params, steps)

    def use_arena(self, slots: dict, overlaps: dict) -> dict:
        """The arena of the plan being built (plan.arena_slots): the current one when laid out the
        same, else a new one (None when no output is big enough); its slots."""
        if not slots:
            self.arena = None
        elif self.arena is None or self.arena.slots != slots:
            self.arena = workspace.Arena(slots, overlaps)
        return slots

    def graph_input(self, i: int):
        """The arena array of model input i while the whole-graph program is current, else None."""
        return self._graph.input_buffer(i) if self.graph_ready() else None

    def graph_ready(self) -> bool:
        """Whether the next run is one call of the whole-graph program (no threads, no BLAS)."""
        g = self._graph
        return g is not None and g.params is self.params and not self.shapes_dirty and not self.preserve_all

    def _run_checked(self, steps: list, keep_all: bool, observe=None) -> dict:
        """The first run after an allocation: the plan's loop (no reshape bound to a shape yet)
        with each kernel's output count and dtypes checked; {tensor: shape} of the outputs."""
        seen = {}
        operators = self.sg.operators

        def check(k, result):
            op = operators[k]
            result = self._checked_result(k, op, result)
            for i, v in zip(op.outputs, result):
                if i >= 0:
                    seen[i] = v.shape
            return result

        run_plan(self, steps, keep_all, observe, check)
        return seen

    def _value(self, i: int, k: int):
        """Tensor i's value as operator k's input (subgraphs.py's operator-by-operator runs)."""
        if i < 0:
            return None
        if i in self.constants:
            return self.constants[i]
        v = self.values.get(i)
        if v is None:
            raise RuntimeError(f"tensor {i} ({self.sg.tensors[i].name!r}) has no value when operator {k} needs it")
        return v
