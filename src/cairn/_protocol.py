"""Scalars as MLflow's REST protocol writes them, shared by the server and the REST client.

>>> double(float("nan")), double(float("-inf")), double(0.5)
('NaN', '-Infinity', 0.5)
"""

from __future__ import annotations

import math


def double(value: float) -> float | str:
    """A double as the protocol writes it: NaN and the infinities as strings, since JSON has
    no spelling for them."""
    if math.isfinite(value):
        return value
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"
