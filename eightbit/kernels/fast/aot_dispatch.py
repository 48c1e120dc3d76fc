"""C source of the library's Python entry points (used by aot_build.py when Python's and numpy's
headers are there; else the library is called through ctypes, about 1 us a call slower).

One METH_FASTCALL function per kernel: for each signature the library holds, it checks every
argument's type in C as numba's typeof would see it (arrays: exact ndarray, dtype kind and size in
native order, ndim, layout and alignment; scalars: Python bool / int / float or the numpy scalar
type), releases the GIL and calls the signature's cfunc wrapper (arrays passed as their object's
address), then boxes the return value. Arguments matching no signature, and a call during which a
kernel reported an error, go to the kernel's Python fallback (numba's JIT, set at load).
"""

from __future__ import annotations

MODULE = "eightbit_kernels"

# dtype.str -> (C type, [(exact Python type test, value expression)], boxing of a return value)
_SCALARS = {
    "|b1": ("uint8_t", [("o == Py_True || o == Py_False", "o == Py_True"),
                        ("Py_TYPE(o) == &PyBoolArrType_Type", "PyArrayScalar_VAL(o, Bool)")], "PyBool_FromLong(r)"),
    "|i1": ("int8_t", [("Py_TYPE(o) == &PyByteArrType_Type", "PyArrayScalar_VAL(o, Byte)")], "PyLong_FromLong(r)"),
    "|u1": ("uint8_t", [("Py_TYPE(o) == &PyUByteArrType_Type", "PyArrayScalar_VAL(o, UByte)")], "PyLong_FromLong(r)"),
    "<i2": ("int16_t", [("Py_TYPE(o) == &PyShortArrType_Type", "PyArrayScalar_VAL(o, Short)")], "PyLong_FromLong(r)"),
    "<u2": ("uint16_t", [("Py_TYPE(o) == &PyUShortArrType_Type", "PyArrayScalar_VAL(o, UShort)")],
            "PyLong_FromLong(r)"),
    "<i4": ("int32_t", [("Py_TYPE(o) == &PyIntArrType_Type", "PyArrayScalar_VAL(o, Int)")], "PyLong_FromLong(r)"),
    "<u4": ("uint32_t", [("Py_TYPE(o) == &PyUIntArrType_Type", "PyArrayScalar_VAL(o, UInt)")],
            "PyLong_FromUnsignedLong(r)"),
    "<i8": ("int64_t", [("PyLong_CheckExact(o)", None),
                        ("Py_TYPE(o) == &PyLongArrType_Type", "PyArrayScalar_VAL(o, Long)"),
                        ("Py_TYPE(o) == &PyLongLongArrType_Type", "PyArrayScalar_VAL(o, LongLong)")],
            "PyLong_FromLongLong(r)"),
    "<u8": ("uint64_t", [("Py_TYPE(o) == &PyULongArrType_Type", "PyArrayScalar_VAL(o, ULong)"),
                         ("Py_TYPE(o) == &PyULongLongArrType_Type", "PyArrayScalar_VAL(o, ULongLong)")],
            "PyLong_FromUnsignedLongLong(r)"),
    "<f4": ("float", [("Py_TYPE(o) == &PyFloatArrType_Type", "PyArrayScalar_VAL(o, Float)")], "PyFloat_FromDouble(r)"),
    "<f8": ("double", [("PyFloat_CheckExact(o)", "PyFloat_AS_DOUBLE(o)"),
                       ("Py_TYPE(o) == &PyDoubleArrType_Type", "PyArrayScalar_VAL(o, Double)")],
            "PyFloat_FromDouble(r)"),
}

PRELUDE = r"""
#define PY_SSIZE_T_CLEAN
#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#include <Python.h>
#include <stdint.h>
#include <numpy/arrayobject.h>
#include <numpy/arrayscalars.h>

extern volatile int eightbit_aot_errors;

/* numba's typeof of an ndarray: exact type, dtype kind and size in native order, ndim, layout
   ('C', 'F' or 'A' as numba gives it) and alignment. */
static inline int array_ok(PyObject *o, char kind, int size, int nd, char layout) {
    if (Py_TYPE(o) != &PyArray_Type) return 0;
    PyArrayObject *a = (PyArrayObject *)o;
    PyArray_Descr *d = PyArray_DESCR(a);
    if (d->kind != kind || PyArray_ITEMSIZE(a) != size || !PyArray_ISNBO(d->byteorder)
        || PyArray_NDIM(a) != nd) return 0;
    int f = PyArray_FLAGS(a);
    if (!(f & NPY_ARRAY_ALIGNED)) return 0;
    int c = (f & NPY_ARRAY_C_CONTIGUOUS) != 0, fo = (f & NPY_ARRAY_F_CONTIGUOUS) != 0;
    return layout == 'C' ? c : layout == 'F' ? (!c && fo) : (!c && !fo);
}

/* a Python int numba types as int64 (one that does not fit is a uint64 to numba: no match) */
static inline int long_ok(PyObject *o, int64_t *v) {
    long long x = PyLong_AsLongLong(o);
    if (x == -1 && PyErr_Occurred()) { PyErr_Clear(); return 0; }
    *v = (int64_t)x;
    return 1;
}
"""


def _code(s: str) -> str:
    return s[1:].replace("<", "").replace("|", "")  # "<i8" -> "i8"


def scalar_getters() -> str:
    out = []
    for s, (ctype, tests, _) in _SCALARS.items():
        body = []
        for test, value in tests:
            if value is None:
                body.append(f"    if ({test}) return long_ok(o, v);")
            else:
                body.append(f"    if ({test}) {{ *v = ({ctype})({value}); return 1; }}")
        out.append(f"static inline int get_{_code(s)}(PyObject *o, {ctype} *v) {{\n" + "\n".join(body)
                   + "\n    return 0;\n}")
    return "\n".join(out)


def _ret_ctype(ret):
    return "void" if ret is None else _SCALARS[ret][0]


def kernel_function(k: int, entries) -> str:
    """The C function of kernel k: entries [(signature, symbol, return item)]."""
    lines = [f"static PyObject *fallback_{k};",
             f"static PyObject *k{k}(PyObject *self, PyObject *const *args, Py_ssize_t n) {{"]
    decls = []
    for e, (sig, symbol, ret) in enumerate(entries):
        params = ", ".join("int64_t" if t[0] == "A" else _SCALARS[t[1]][0] for t in sig) or "void"
        decls.append(f'extern {_ret_ctype(ret)} k{k}_{e}({params}) __asm__("{symbol}");')
        checks = [f"n == {len(sig)}"]
        locals_, passed = [], []
        for i, t in enumerate(sig):
            if t[0] == "A":
                kind, size = t[1][1], int(t[1][2:])
                checks.append(f"array_ok(args[{i}], '{kind}', {size}, {t[2]}, '{t[3]}')")
                passed.append(f"(int64_t)(intptr_t)args[{i}]")
            else:
                ctype = _SCALARS[t[1]][0]
                locals_.append(f"{ctype} s{i};")
                checks.append(f"get_{_code(t[1])}(args[{i}], &s{i})")
                passed.append(f"s{i}")
        call = f"k{k}_{e}({', '.join(passed)})"
        lines.append("    {")
        lines += [f"        {d}" for d in locals_]
        lines.append(f"        if ({' && '.join(checks)}) {{")
        lines.append("            int before = eightbit_aot_errors;")
        if ret is None:
            lines.append(f"            Py_BEGIN_ALLOW_THREADS {call}; Py_END_ALLOW_THREADS")
            done = "Py_RETURN_NONE;"
        else:
            lines.append(f"            {_ret_ctype(ret)} r;")
            lines.append(f"            Py_BEGIN_ALLOW_THREADS r = {call}; Py_END_ALLOW_THREADS")
            done = f"return {_SCALARS[ret][2]};"
        lines.append(f"            if (eightbit_aot_errors == before) {done}")
        lines.append("            goto fallback;  /* the kernel reported an error: the JIT raises it */")
        lines.append("        }")
        lines.append("    }")
    lines.append("fallback:")
    lines.append(f"    if (fallback_{k} == NULL) {{ PyErr_SetString(PyExc_RuntimeError, \"no fallback\"); return NULL; }}")
    lines.append(f"    return PyObject_Vectorcall(fallback_{k}, args, n, NULL);")
    lines.append("}")
    return "\n".join(decls + lines)


def module_source(kernels: list) -> str:
    """kernels: [entries] in the order of the functions k0, k1, ..."""
    parts = [PRELUDE, scalar_getters()]
    parts += [kernel_function(k, entries) for k, entries in enumerate(kernels)]
    cases = "\n".join(f"        case {k}: slot = &fallback_{k}; break;" for k in range(len(kernels)))
    parts.append(f"""
static PyObject *set_fallback(PyObject *self, PyObject *args) {{
    int k; PyObject *fn, **slot = NULL;
    if (!PyArg_ParseTuple(args, "iO", &k, &fn)) return NULL;
    switch (k) {{
{cases}
        default: PyErr_SetString(PyExc_IndexError, "no such kernel"); return NULL;
    }}
    Py_XDECREF(*slot); Py_INCREF(fn); *slot = fn;
    Py_RETURN_NONE;
}}
""")
    methods = "\n".join(f'    {{"k{k}", (PyCFunction)(void (*)(void))k{k}, METH_FASTCALL, NULL}},'
                        for k in range(len(kernels)))
    parts.append(f"""
static PyMethodDef methods[] = {{
{methods}
    {{"set_fallback", set_fallback, METH_VARARGS, NULL}},
    {{NULL, NULL, 0, NULL}}
}};
static struct PyModuleDef module = {{PyModuleDef_HEAD_INIT, "{MODULE}", NULL, -1, methods}};
PyMODINIT_FUNC PyInit_{MODULE}(void) {{
    import_array();
    return PyModule_Create(&module);
}}
""")
    return "\n".join(parts)


def headers() -> list | None:
    """The -I flags for Python's and numpy's headers, or None when either is missing."""
    import os
    import sysconfig

    import numpy

    py = sysconfig.get_paths().get("include") or ""
    np_inc = numpy.get_include()
    if not os.path.exists(os.path.join(py, "Python.h")) or not os.path.exists(
            os.path.join(np_inc, "numpy", "arrayobject.h")):
        return None
    return [f"-I{py}", f"-I{np_inc}"]
