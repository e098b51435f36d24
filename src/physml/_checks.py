"""Argument checks shared by the numerical modules: a clear ``ValueError`` for bad input.

``bool`` is excluded from the numbers on purpose: ``True`` as a step size or a count is a
mistake, not the number 1.
"""

from __future__ import annotations

import math
import numbers
from typing import Any


def is_real(x: Any) -> bool:
    """``x`` is a real Python or NumPy number (not a bool)."""
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def is_int(x: Any) -> bool:
    """``x`` is an integral Python or NumPy number (not a bool)."""
    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


def check_positive(value: Any, name: str) -> float:
    """``value`` as a float, if it is a positive finite number; otherwise a ``ValueError``."""
    if not (is_real(value) and math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return float(value)


def check_count(value: Any, name: str, least: int = 1) -> int:
    """``value`` as an int, if it is an integer at least ``least``; otherwise a ``ValueError``."""
    if not (is_int(value) and value >= least):
        raise ValueError(f"{name} must be an integer >= {least}, got {value!r}")
    return int(value)


def to_device(x: Any) -> Any:
    """``jnp.asarray(x)`` without a compiled program: a NumPy array is copied to the device by
    ``jax.device_put`` (``jnp.asarray`` stages it through a small program compiled once per
    shape and dtype, tens of milliseconds each on a CPU); anything else goes to ``jnp.asarray``."""
    import jax
    import jax.numpy as jnp
    import numpy as np

    return jax.device_put(x) if type(x) is np.ndarray else jnp.asarray(x)
