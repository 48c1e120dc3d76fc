"""eightbit.Interpreter: the tf.lite.Interpreter API over our kernels."""

from __future__ import annotations

import hashlib
import threading
import time

import numpy as np

from eightbit.errors import ModelError
from eightbit.interpreter import fastpath, prepared
from eightbit.interpreter.runner import SubgraphRunner
from eightbit.interpreter.subgraphs import reset_variable_tensors
from eightbit.ir import Model, load
from eightbit.tflite import read_bytes


def tensor_details(runner: SubgraphRunner, i: int) -> dict:
    """A detail dict with the keys, value types and values tf.lite.Interpreter (LiteRT) gives."""
    t = runner.sg.tensors[i]
    q = t.quantization
    scales = q.scale.astype(np.float32) if q is not None else np.zeros(0, np.float32)
    zps = q.zero_point.astype(np.int32) if q is not None else np.zeros(0, np.int32)
    # The legacy `quantization` pair is TFLite's per-tensor params: set only for one scale.
    legacy = (float(scales[0]), int(zps[0])) if scales.size == 1 and zps.size >= 1 else (0.0, 0)
    shape = np.array(runner.shapes[i], np.int32)
    # LiteRT: the file's shape_signature when it has one, else the current shape.
    sig = np.array(t.shape_signature, np.int32) if t.shape_signature else shape.copy()
    return {
        "name": t.name,
        "index": i,
        "shape": shape,
        "shape_signature": sig,
        "dtype": t.dtype.type,
        "quantization": legacy,
        "quantization_parameters": {
            "scales": scales,
            "zero_points": zps,
            "quantized_dimension": int(q.quantized_dimension) if q is not None else 0,
            "block_size": 0,
        },
        "sparsity_parameters": _sparsity(t.sparsity),
    }


def _sparsity(sp) -> dict:
    if not sp:
        return {}
    # As LiteRT's wrapper builds it: block_map only when the tensor has block dimensions.
    out = {"traversal_order": np.array(sp.get("traversal_order") or [], np.int32)}
    if sp.get("block_map"):
        out["block_map"] = np.array(sp["block_map"], np.int32)
    out["dim_metadata"] = []
    for dm in sp.get("dim_metadata") or []:
        if dm.get("format", 0) == 0:
            out["dim_metadata"].append({"format": 0, "dense_size": dm.get("dense_size", 0)})
        else:
            out["dim_metadata"].append({
                "format": 1,
                "array_segments": np.array(list((dm.get("array_segments") or {}).get("values") or []), np.int32),
                "array_indices": np.array(list((dm.get("array_indices") or {}).get("values") or []), np.int32),
            })
    return out


def _blas_threads(n):
    """Thread counts while running: numpy's BLAS threads and the compiled kernels' (fastpath)."""
    return fastpath.running_with(n)


PIECE_BYTES = 1 << 20  # hashed at a time


def _digest_of(raw: bytes):
    """() -> a sha256 tree hash of the model's bytes (the sha256 of its 1 MB pieces' sha256s), for
    the prepared-params cache; None when it is off. hashlib lets the GIL go: a thread started
    here hashes pieces on the other core while the model is decoded and the kernels chosen;
    when allocate_tensors() asks, this thread hashes the pieces left too (2 ms per 4 MB)."""
    if not prepared.enabled():
        return None
    view = memoryview(raw)
    count = max(1, -(-len(view) // PIECE_BYTES))
    digests = [b""] * count
    todo = iter(range(count))  # next() on a range iterator is atomic: each piece hashed once

    def hash_pieces() -> None:
        for k in todo:
            digests[k] = hashlib.sha256(view[k * PIECE_BYTES:(k + 1) * PIECE_BYTES]).digest()

    worker = threading.Thread(target=hash_pieces, daemon=True)
    worker.start()
    # Hand the GIL over now: the worker takes it only to enter hashlib, which lets it go again.
    # Otherwise it waits a switch interval (5 ms) while this thread decodes the model.
    time.sleep(0)

    def digest() -> str:
        hash_pieces()
        worker.join()
        return hashlib.sha256(b"".join(digests)).hexdigest()

    return digest


class Interpreter:
    """Drop-in for tf.lite.Interpreter, running TFLite's reference arithmetic in numpy.

    `num_threads` sets numpy's BLAS threads and the compiled kernels' threads during invoke().
    `kernels="fast"` (default) runs the fast kernels (eightbit/kernels/fast: the same results bit
    for bit); "reference" only the numpy reference kernels. Delegates and op resolvers are
    accepted and ignored: the arithmetic is always TFLite's reference kernels'.
    """

    def __init__(self, model_path=None, model_content=None, experimental_delegates=None,
                 num_threads=None, experimental_op_resolver_type=None,
                 experimental_preserve_all_tensors=False, experimental_disable_delegate_clustering=False,
                 experimental_default_delegate_latest_features=False, kernels="fast", **unknown):
        if unknown:
            # TF raises TypeError for a misspelled option; so do we, naming the valid ones.
            valid = list(Interpreter.__init__.__code__.co_varnames[1:10])
            raise TypeError(f"Interpreter() got unexpected keyword argument(s) {sorted(unknown)}; "
                            f"valid ones: {valid}")
        if (model_path is None) == (model_content is None):
            raise ValueError("pass exactly one of model_path or model_content")
        if num_threads is not None and (not isinstance(num_threads, int) or num_threads < -1 or num_threads == 0):
            raise ValueError("num_threads should be >= 1 or -1")
        src = model_path if model_path is not None else model_content
        digest = None
        if isinstance(src, Model):
            self._model: Model = src
        else:
            raw = read_bytes(src)
            digest = _digest_of(raw)
            self._model = load(raw)
        self._num_threads = num_threads
        self._preserve = bool(experimental_preserve_all_tensors)
        self._kernels = fastpath.check_mode(kernels)
        self._runner = SubgraphRunner(self._model, 0, self._preserve, kernels=self._kernels, model_digest=digest)

    @property
    def model(self) -> Model:
        return self._model

    # ---- tf.lite.Interpreter API --------------------------------------------------------
    def allocate_tensors(self):
        self._runner.allocate()

    def get_input_details(self):
        return [tensor_details(self._runner, i) for i in self._runner.sg.inputs]

    def get_output_details(self):
        return [tensor_details(self._runner, i) for i in self._runner.sg.outputs]

    def get_tensor_details(self):
        return [tensor_details(self._runner, i) for i in range(len(self._runner.sg.tensors))]

    def _check_index(self, tensor_index):
        n = len(self._runner.sg.tensors)
        if type(tensor_index) is int and 0 <= tensor_index < n:  # the common case, checked first
            return tensor_index
        if isinstance(tensor_index, (bool, np.bool_)) or not isinstance(tensor_index, (int, np.integer)) \
                or not 0 <= tensor_index < n:
            raise ValueError(f"tensor index {tensor_index!r} out of range 0..{n - 1}")
        return int(tensor_index)

    def set_tensor(self, tensor_index, value):
        i = self._check_index(tensor_index)
        r = self._runner
        t = r.sg.tensors[i]
        if type(value) is not np.ndarray:
            value = np.asarray(value)
        if value.dtype != r.dtypes[i]:
            raise ValueError(
                f"Cannot set tensor {i} ({t.name!r}): got value of type {value.dtype.name.upper()} "
                f"but expected type {t.type} ({t.dtype.name})"
            )
        if tuple(value.shape) != r.shapes[i]:
            raise ValueError(
                f"Cannot set tensor {i} ({t.name!r}): dimension mismatch, got shape {list(value.shape)} "
                f"but expected {list(r.shapes[i])} (use resize_tensor_input to change it)"
            )
        if i in r.constants:
            # Overriding a constant, as TFLite allows: this Interpreter's copy only.
            r.constants[i] = np.array(value, copy=True)
            r.model_digest = None  # the params now follow more than the file: never cached (prepared.py)
            if r.params is not None:
                r.allocate(force=True)  # kernels prepared from the old constant
            return
        current = r.values.get(i)
        if current is None:
            current = r.graph_input(i)  # a small model compiled whole: the input lives in its arena
            if current is not None:
                r.values[i] = current
        if current is not None and current.shape == value.shape and current.dtype == value.dtype \
                and current.flags.writeable:
            np.copyto(current, value)  # arrays from tensor() see the new value, as in TFLite
        else:
            r.values[i] = np.array(value, copy=True)

    def get_tensor(self, tensor_index, subgraph_index=0):
        if subgraph_index != 0:
            raise ValueError("only subgraph 0 is reachable through get_tensor; use get_signature_runner")
        i = self._check_index(tensor_index)
        return np.array(self._tensor_value(i), copy=True)

    def tensor(self, tensor_index):
        """A function returning the tensor's current array itself (writable for inputs)."""
        i = self._check_index(tensor_index)
        return lambda: self._tensor_value(i, create=True)

    def _tensor_value(self, i, create=False):
        r = self._runner
        if i in r.constants:
            return r.constants[i]
        v = r.values.get(i)
        if v is None:
            t = r.sg.tensors[i]
            if i not in r.sg.inputs and r.sg.producers().get(i) is not None and not self._preserve \
                    and r.params is not None and self._invoked:
                raise ValueError(
                    f"tensor {i} ({t.name!r}) is an intermediate whose memory was reused; create the "
                    "Interpreter with experimental_preserve_all_tensors=True to read it"
                )
            v = r.graph_input(i) if create else None
            if v is None:
                v = np.zeros(r.shapes[i], t.dtype)
            if create and i in r.sg.inputs:
                r.values[i] = v
        return v

    _invoked = False

    def invoke(self):
        r = self._runner
        g = r._graph
        # A small model compiled whole (interpreter/graph_runner.py): one call, one thread, no BLAS.
        if g is not None and g.params is r.params and not r.shapes_dirty and not r.preserve_all \
                and g.run(r.values):
            self._invoked = True
            return
        with _blas_threads(self._num_threads):
            r.run()  # the operator-by-operator plan (also: an unset input, an input the reference rejects)
        self._invoked = True

    def reset_all_variables(self):
        reset_variable_tensors(self._runner)  # interpreter/subgraphs.py

    def resize_tensor_input(self, input_index, tensor_size, strict=False):
        i = self._check_index(input_index)
        r = self._runner
        if i not in r.sg.inputs:
            raise ValueError(f"tensor {i} ({r.sg.tensors[i].name!r}) is not a model input")
        size = [int(d) for d in np.asarray(tensor_size).reshape(-1)]
        sig = r.sg.tensors[i].shape_signature
        if strict:
            dims = sig if sig else r.shapes[i]
            if len(size) != len(dims) or any(s != -1 and new != s for new, s in zip(size, dims)):
                raise RuntimeError(  # LiteRT's type for this error
                    f"ResizeInputTensorStrict: tensor {i} ({r.sg.tensors[i].name!r}) has shape signature "
                    f"{list(dims)}; only its -1 dimensions may change, got {size}"
                )
        r.resize_input(i, size)
        if r.shapes_dirty:
            r.values.pop(i, None)

    def get_signature_list(self):
        # TFLite keeps signature inputs/outputs in a std::map: names come out sorted.
        return {
            sd["signature_key"]: {
                "inputs": sorted(t["name"] for t in sd["inputs"]),
                "outputs": sorted(t["name"] for t in sd["outputs"]),
            }
            for sd in self._model.signature_defs
        }

    def get_signature_runner(self, signature_key=None):
        sigs = self._model.signature_defs
        if signature_key is None:
            if len(sigs) != 1:
                raise ValueError(
                    f"SignatureDef signature_key is None and model has {len(sigs)} Signatures. "
                    "None is only allowed when the model has 1 SignatureDef"
                )
            sd = sigs[0]
        else:
            matches = [s for s in sigs if s["signature_key"] == signature_key]
            if not matches:
                raise ValueError(f'Invalid signature_key provided: "{signature_key}"; the model has '
                                 f"{[s['signature_key'] for s in sigs]}")
            sd = matches[0]
        runner = self._runner if sd["subgraph_index"] == 0 else SubgraphRunner(
            self._model, sd["subgraph_index"], self._preserve, session=self._runner.session, kernels=self._kernels)
        return SignatureRunner(runner, sd, self._num_threads)

    def get_subgraph_runner(self):
        return self._runner


class SignatureRunner:
    """Callable like TF's: runner(x=array, ...) -> {output name: array}."""

    def __init__(self, runner: SubgraphRunner, sig: dict, num_threads=None):
        self._runner = runner
        self._inputs = {t["name"]: t["tensor_index"] for t in sorted(sig["inputs"], key=lambda t: t["name"])}
        self._outputs = {t["name"]: t["tensor_index"] for t in sorted(sig["outputs"], key=lambda t: t["name"])}
        self._num_threads = num_threads

    def get_input_details(self):
        return {n: tensor_details(self._runner, i) for n, i in self._inputs.items()}

    def get_output_details(self):
        return {n: tensor_details(self._runner, i) for n, i in self._outputs.items()}

    def allocate_tensors(self):
        self._runner.allocate()

    def __call__(self, **kwargs):
        if len(kwargs) != len(self._inputs):
            raise ValueError(
                "Invalid number of inputs provided for running a SignatureDef, "
                f"expected {len(self._inputs)} ({sorted(self._inputs)}) vs provided {len(kwargs)}"
            )
        r = self._runner
        values = {}
        for name, value in kwargs.items():
            if name not in self._inputs:
                raise ValueError(f"Invalid Input name ({name}) for SignatureDef; expected {sorted(self._inputs)}")
            i = self._inputs[name]
            value = np.asarray(value)
            t = r.sg.tensors[i]
            if value.dtype != t.dtype:
                raise ValueError(f"signature input {name!r} (tensor {i}): got value of type "
                                 f"{value.dtype.name.upper()} but expected type {t.type}")
            r.resize_input(i, value.shape)
            values[i] = value
        r.allocate()
        for i, value in values.items():
            r.values[i] = np.array(value, copy=True)
        with _blas_threads(self._num_threads):
            r.run()
        return {n: np.array(r.values[i], copy=True) for n, i in self._outputs.items()}


__all__ = ["Interpreter", "SignatureRunner", "ModelError"]
