"""libstdc++'s binary-heap steps, in Python, for the kernels whose results depend on the order
std::partial_sort or std::priority_queue leaves equal keys in (DETECTION_POSTPROCESS's class
ranking, NON_MAX_SUPPRESSION's candidate queue). `comp(a, b)` is the C++ comparator: a comes
after b in the heap (the heap's top is an element no other is comp-before).
"""

from __future__ import annotations


def push_heap(items: list, hole: int, top: int, value, comp) -> None:
    """__push_heap: move value up from hole (not above top) while its parent is comp-before it."""
    parent = (hole - 1) // 2
    while hole > top and comp(items[parent], value):
        items[hole] = items[parent]
        hole = parent
        parent = (hole - 1) // 2
    items[hole] = value


def adjust_heap(items: list, hole: int, length: int, value, comp) -> None:
    """__adjust_heap: sift the hole at `hole` down to a leaf of the first `length` items, taking
    the larger child each step, then __push_heap value up from there."""
    top = child = hole
    while child < (length - 1) // 2:
        child = 2 * (child + 1)
        if comp(items[child], items[child - 1]):
            child -= 1
        items[hole] = items[child]
        hole = child
    if length % 2 == 0 and child == (length - 2) // 2:
        child = 2 * (child + 1)
        items[hole] = items[child - 1]
        hole = child - 1
    push_heap(items, hole, top, value, comp)
