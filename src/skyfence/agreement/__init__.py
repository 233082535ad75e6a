"""The deconfliction agreement: parties, line, sides, zones and thresholds.

The names below load on first use: ``skyfence.agreement.thresholds`` alone (the incident store, the hotline, the
commands that only read a store) does not load the geometry and numerical kernels behind them."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from skyfence.agreement.load import BUILTIN, load_agreement
    from skyfence.agreement.model import Agreement, RestrictedArea, SeparationThresholds, Thresholds

__all__ = ["BUILTIN", "Agreement", "RestrictedArea", "SeparationThresholds", "Thresholds", "load_agreement"]
_HOME = {"BUILTIN": "load", "load_agreement": "load", "Agreement": "model", "RestrictedArea": "model",
         "SeparationThresholds": "model", "Thresholds": "model"}


def __getattr__(name: str):
    if name not in _HOME:
        raise AttributeError(f"module 'skyfence.agreement' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"skyfence.agreement.{_HOME[name]}"), name)
