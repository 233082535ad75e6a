"""Whether an array is already in order: a pass that saves a sort where the data nearly always come sorted."""

from __future__ import annotations

import numba as nb
import numpy as np


@nb.njit(cache=True)
def ascending(a: np.ndarray) -> bool:
    """Whether ``a`` is strictly ascending."""
    for i in range(1, len(a)):
        if a[i] <= a[i - 1]:
            return False
    return True
