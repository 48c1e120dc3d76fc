"""The interpreter's side of the fast kernels: which kernel each operator runs, and the thread
counts of an invoke (hooks called from runner.py and interpreter.py)."""

from __future__ import annotations

from eightbit.kernels.fast import check_mode, kernel_for, running_with

__all__ = ["choose_kernels", "check_mode", "running_with"]


def choose_kernels(operators, reference_kernels: list, mode: str) -> list:
    """The kernel per operator: the reference kernels, or their fast versions where one exists."""
    if check_mode(mode) == "reference":
        return list(reference_kernels)
    return [kernel_for(op.op_type, k) for op, k in zip(operators, reference_kernels)]
