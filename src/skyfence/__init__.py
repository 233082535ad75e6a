"""skyfence: watch shared airspace against a deconfliction agreement.

Public entry points:

- :func:`skyfence.load_agreement`: a built-in agreement by name or a YAML file;
- :func:`skyfence.read_tracks`: a CSV or Parquet state-vector file as the canonical table;
- :func:`skyfence.detect_conflicts`: conflicts between aircraft at one instant;
- :func:`skyfence.analyze`: the batch pipeline (crossings, encounters, summary).
"""

from skyfence._cachedir import ensure_numba_cache

ensure_numba_cache()  # before numba is imported: compiled kernels need a writable cache

__version__ = "0.1.0"
__all__ = ["analyze", "detect_conflicts", "load_agreement", "read_tracks"]

_HOMES = {"analyze": "skyfence.analysis.run", "detect_conflicts": "skyfence.detect.conflict_table",
          "load_agreement": "skyfence.agreement", "read_tracks": "skyfence.sources.tabular"}


def __getattr__(name: str):
    """The public functions, imported on first use (so that ``skyfence --help`` starts at once)."""
    if name in _HOMES:
        import importlib

        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'skyfence' has no attribute {name!r}")
