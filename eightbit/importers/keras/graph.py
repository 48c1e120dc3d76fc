"""Walk a Keras 3 Functional / Sequential model's graph and emit TFLite builtins layer by layer.

The walk mirrors keras.src.ops.function.Function._run_through_graph: nodes by decreasing depth,
each node's call arguments filled in from the tensors computed so far. Nested models are
walked in place. Nothing here touches a backend tensor: configs and weights (numpy) only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from eightbit.errors import ModelError, UnsupportedOpError
from eightbit.importers.common import ImportedGraph
from eightbit.importers.keras import layers_basic, layers_conv, layers_ops, layers_seq, layers_shape
from eightbit.importers.keras.emitter import Emitter, T

# keras.layers classes (matched only for classes defined inside keras: a user's own `Add` layer is custom)
RULES = {**layers_conv.RULES, **layers_basic.RULES, **layers_shape.RULES, **layers_seq.RULES}
# keras.ops calls recorded in Functional graphs, and the custom layers keras.applications defines
OP_RULES = {name: (fn, None, "call") for name, fn in layers_ops.OPS.items()}
APP_RULES = layers_ops.APPLICATION_LAYERS
_DTYPES = {"float32": "float32", "float16": "float32", "bfloat16": "float32", "float64": "float32",
           "int32": "int32", "int64": "int32", "int8": "int32", "uint8": "int32", "int16": "int32", "bool": "bool"}


class UnsupportedLayerError(UnsupportedOpError):
    """Every Keras layer the importer cannot map, in one message."""

    def __init__(self, problems):
        # (class name, module, count, first layer names / reason) per class, as UnsupportedOpError lists ops
        self.unsupported = problems
        parts = [f"{name} ({module}) x{count}: {detail}" for name, module, count, detail in problems]
        ModelError.__init__(self, f"Keras model has {sum(p[2] for p in problems)} unsupported layer(s): "
                            + "; ".join(parts))


@dataclass
class Call:
    """One layer call: its tensors (flattened positional + keyword tensor arguments) and outputs."""

    tensors: list
    args: tuple
    kwargs: dict
    out_shapes: list = field(default_factory=list)

    @property
    def x(self) -> T:
        return self.tensors[0]


def _is_model(op) -> bool:
    return hasattr(op, "_nodes_by_depth") or _sequential_graph(op) is not None


def _sequential_graph(op):
    return getattr(op, "_functional", None) if type(op).__name__ == "Sequential" else None


def _graph(model):
    """The Functional graph behind a model (a Sequential's inner Functional)."""
    if type(model).__name__ == "Sequential":
        fn = _sequential_graph(model)
        if fn is None:
            raise ModelError(f"Sequential model {model.name!r} has no input shape yet: give its first layer "
                             "an `input_shape` / start with keras.Input, or call it on data once")
        return fn
    if not hasattr(model, "_nodes_by_depth"):
        raise ModelError(f"{type(model).__name__} {getattr(model, 'name', '')!r} is a subclassed model: only "
                         "Sequential and Functional models carry a graph the importer can read")
    return model


def _nodes(fn):
    for depth in sorted(fn._nodes_by_depth, reverse=True):
        for node in fn._nodes_by_depth[depth]:
            if node.operation is not None and not node.is_input:
                yield node


def _rule(op):
    cls, module = type(op).__name__, type(op).__module__
    if module.startswith("keras.src.layers."):
        return RULES.get(cls)
    if module.startswith("keras.src.ops."):
        return OP_RULES.get(cls)
    if module.startswith("keras.src.applications."):
        return APP_RULES.get(cls)
    return None


def check_layer(op):
    """None when the layer converts, else the reason it does not."""
    rule = _rule(op)
    if rule is None:
        if type(op).__name__ == "Lambda":
            return "Lambda layers hold arbitrary Python code"
        if not type(op).__module__.startswith("keras."):
            return "custom layer class"
        return "no TFLite lowering for this layer class"
    check = rule[1]
    return check(op) if check is not None else None


def collect_unsupported(fn, found=None) -> dict:
    """class name -> [module, [layer names], reason] over the whole graph, nested models included."""
    found = {} if found is None else found
    for node in _nodes(fn):
        op = node.operation
        if _is_model(op):
            collect_unsupported(_graph(op), found)
            continue
        reason = check_layer(op)
        if reason is not None:
            entry = found.setdefault((type(op).__name__, reason), [type(op).__module__, []])
            entry[1].append(op.name)
    return found


def _fill(node, env):
    def get(kt):
        if id(kt) not in env:
            raise ModelError(f"layer {node.operation.name!r}: an input is not connected to the model's inputs")
        return env[id(kt)]
    args, kwargs = node.arguments.convert(lambda v: get(v) if _is_keras_tensor(v) else v)
    tensors = [get(kt) for kt in node.arguments.keras_tensors]
    return args, kwargs, tensors


def _is_keras_tensor(v) -> bool:
    return type(v).__name__ == "KerasTensor"


def static_shape(kt, what) -> tuple:
    shape = tuple(kt.shape)
    if any(d is None for d in shape[1:]):
        raise ModelError(f"{what} has shape {shape}: TFLite needs every dimension but the batch fixed; "
                         "build the model with a static input shape")
    return tuple(1 if d is None else int(d) for d in shape)


def run_graph(em: Emitter, fn, env: dict, problems: list) -> None:
    """Emit every node of `fn`; `env` maps id(KerasTensor) -> T and gains every output. A layer
    whose call the importer cannot map (found only while lowering, e.g. an attention mask) goes
    to `problems` and gets placeholder outputs, so that every such layer is reported at once."""
    for node in _nodes(fn):
        op = node.operation
        args, kwargs, tensors = _fill(node, env)
        shapes = [static_shape(o, f"output of {op.name!r}") for o in node.outputs]
        if _is_model(op):
            inner = _graph(op)
            sub_env = {id(k): t for k, t in zip(inner.inputs, tensors)}
            run_graph(em, inner, sub_env, problems)
            outs = [sub_env[id(k)] for k in inner.outputs]
        else:
            try:
                outs = _lower(em, op, Call(tensors, args, kwargs, shapes))
            except UnsupportedLayerError as e:
                problems.extend(e.unsupported)
                outs = [em.tensor(s, name="placeholder") for s in shapes]
        outs = outs if isinstance(outs, (list, tuple)) else [outs]
        if len(outs) != len(node.outputs):
            raise ModelError(f"layer {op.name!r}: lowered to {len(outs)} outputs, Keras has {len(node.outputs)}")
        for kt, t in zip(node.outputs, outs):
            want = static_shape(kt, f"output of {op.name!r}")
            if tuple(t.shape) != want:
                raise ModelError(f"layer {op.name!r} ({type(op).__name__}): lowered shape {t.shape} != Keras {want}")
            env[id(kt)] = t


def lower_layer(em: Emitter, layer, x: T) -> T:
    """A single-input layer applied to x inside another layer's lowering (TimeDistributed)."""
    prefix = em.prefix
    try:
        try:
            shapes = [tuple(1 if d is None else int(d) for d in layer.compute_output_shape(x.shape))]
        except Exception:  # noqa: BLE001 - only TRANSPOSE_CONV reads it; others do without
            shapes = []
        out = _lower(em, layer, Call([x], (x,), {}, shapes))
    finally:
        em.prefix = prefix
    if isinstance(out, (list, tuple)):
        raise UnsupportedLayerError([(type(layer).__name__, type(layer).__module__, 1, f"{layer.name}: several outputs")])
    return out


def _lower(em: Emitter, op, call: Call):
    rule = _rule(op)
    fn, takes_call = rule[0], len(rule) > 2 and rule[2] == "call"
    em.prefix = op.name
    try:
        if takes_call:
            return fn(em, op, call)
        if len(call.tensors) != 1:
            raise NotImplementedError(f"{len(call.tensors)} tensor inputs")
        return fn(em, op, call.x)
    except NotImplementedError as e:
        raise UnsupportedLayerError([(type(op).__name__, type(op).__module__, 1, f"{op.name}: {e}")]) from None
    finally:
        em.prefix = ""


def import_model(model) -> ImportedGraph:
    fn = _graph(model)
    problems = collect_unsupported(fn)
    if problems:
        raise UnsupportedLayerError([
            (cls, module, len(names), f"{', '.join(names[:5])}{' ...' if len(names) > 5 else ''} ({reason})")
            for (cls, reason), (module, names) in problems.items()])
    em = Emitter()
    env, inputs = {}, []
    for k, kt in enumerate(fn.inputs):
        name = _input_name(kt) or f"input_{k}"
        dtype = _DTYPES.get(str(kt.dtype), "float32")
        em.prefix = ""
        t = em.tensor(static_shape(kt, f"input {name!r}"), dtype, name=name)
        env[id(kt)] = t
        inputs.append((name, t))
        if kt.shape[0] is None:  # the batch stays resizable, as TF's shape_signature says
            em.b.sg.tensors[t.idx].shape_signature = (-1, *t.shape[1:])
    problems = []
    run_graph(em, fn, env, problems)
    if problems:
        raise UnsupportedLayerError(problems)
    outputs = []
    for k, kt in enumerate(fn.outputs):
        t = env[id(kt)]
        if t.idx in [o.idx for o in outputs] or t.idx in [i.idx for _, i in inputs]:
            t = _copy(em, t, f"output_{k}")
        outputs.append(t)
    return _finish(em, model, inputs, outputs)


def _input_name(kt):
    """The InputLayer's name ("input_layer", or the name given to keras.Input), as the signature uses it."""
    history = getattr(kt, "_keras_history", None)
    layer = getattr(history, "operation", None)
    return getattr(layer, "name", None) or getattr(kt, "name", None)


def _copy(em: Emitter, t: T, name) -> T:
    """A distinct tensor for an output that is also an input or another output (RESHAPE to itself)."""
    em.prefix = name
    return em.reshape(t, t.shape)


def _finish(em: Emitter, model, inputs, outputs) -> ImportedGraph:
    from eightbit.passes import optimize

    b = em.b
    b.inputs(*[t.idx for _, t in inputs]).outputs(*[t.idx for t in outputs])
    for k, t in enumerate(outputs):  # TF names a Keras 3 model's outputs output_0, output_1, ...
        b.sg.tensors[t.idx].name = f"output_{k}"
    ir = b.build()
    ir.description = "eightbit Keras importer"
    ir.signature_defs = [{
        "signature_key": "serving_default", "subgraph_index": 0,
        "inputs": [{"name": name, "tensor_index": t.idx} for name, t in inputs],
        "outputs": [{"name": f"output_{k}", "tensor_index": t.idx} for k, t in enumerate(outputs)],
    }]
    done = optimize(ir)
    notes = [f"Keras model {model.name!r}: {len(ir.main.operators)} operators"]
    if done.get("fold_batchnorm"):
        notes.append(f"folded {done['fold_batchnorm']} batch normalization MUL/ADD into conv/dense weights")
    if done.get("fuse_activations"):
        notes.append(f"fused {done['fuse_activations']} activations")
    return ImportedGraph(model=ir, layout="NHWC", notes=notes + em.notes)

