"""One loader for the arrays every subcommand reads (.npy and .npz), with one-line errors.

np.load's own failures are unhelpful for a user (EOFError on an empty file, a pickle message for
a text file, an NpzFile where an array was expected): each is turned into a ValueError that names
the file and says what was expected.
"""

from __future__ import annotations

import os
import zipfile

import numpy as np

_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGIC = b"PK\x03\x04"


def _kind(path: str, what: str) -> str:
    """'npy' or 'npz' from the file's first bytes, or a ValueError saying what the file is."""
    try:
        with open(path, "rb") as f:
            head = f.read(8)
    except OSError as e:
        raise OSError(e.errno, e.strerror or str(e), path) from None
    if not head:
        raise ValueError(f"{what} {path} is empty (0 bytes); give a .npy or .npz file")
    if head.startswith(_NPY_MAGIC):
        return "npy"
    if head.startswith(_ZIP_MAGIC):
        return "npz"
    if zipfile.is_zipfile(path):
        return "npz"
    raise ValueError(f"{what} {path} is not a .npy or .npz file (it starts with {head[:8]!r}); "
                     "save arrays with numpy.save or numpy.savez")


def load_arrays(path: str, what: str = "--data") -> dict:
    """name -> array from an .npz, or {"": array} from a .npy (one array for a one-input model)."""
    path = os.fspath(path)
    kind = _kind(path, what)
    try:
        data = np.load(path, allow_pickle=False)
        if kind == "npy":
            return {"": np.asarray(data)}
        with data:
            arrays = {k: data[k] for k in data.files}
    except (ValueError, EOFError, zipfile.BadZipFile, OSError) as e:
        raise ValueError(f"{what} {path}: cannot read it as .{kind}: {type(e).__name__}: {e}") from None
    if not arrays:
        raise ValueError(f"{what} {path} is an .npz with no arrays in it")
    return arrays


def load_array(path: str, what: str = "--input") -> np.ndarray:
    """One array: a .npy, or an .npz holding exactly one array."""
    arrays = load_arrays(path, what)
    if len(arrays) != 1:
        raise ValueError(f"{what} {path} holds {len(arrays)} arrays {sorted(arrays)}; give one array (.npy)")
    return next(iter(arrays.values()))


def match_inputs(arrays: dict, names: list, aliases: list, path: str, what: str = "--data") -> list:
    """The array for each model input, in order. `names[i]` is input i's tensor name, `aliases[i]`
    further accepted keys (input_<i>, signature names). A .npy ("" key) serves a one-input model;
    keys that name no input are an error, listing the inputs."""
    if set(arrays) == {""}:
        if len(names) != 1:
            raise ValueError(f"{what} {path} is one array (.npy) but the model has {len(names)} inputs {names}; "
                             "give an .npz with one array per input")
        return [arrays[""]]
    chosen, used = [], set()
    for pos, name in enumerate(names):
        keys = [name, *aliases[pos]]
        hit = next((k for k in keys if k in arrays), None)
        if hit is None:
            raise ValueError(f"{what} {path}: no array for model input {pos} ({name!r}); name it one of "
                             f"{keys[:3]} (the file has {sorted(arrays)})")
        chosen.append(arrays[hit])
        used.add(hit)
    unknown = sorted(k for k in arrays if k not in used and not any(k in [n, *a] for n, a in zip(names, aliases)))
    if unknown:
        raise ValueError(f"{what} {path}: arrays {unknown} name no model input; the inputs are {names}")
    return chosen
