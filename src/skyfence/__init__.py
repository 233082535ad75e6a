"""skyfence: watch shared airspace against a deconfliction agreement.

Public entry points:

- :func:`skyfence.load_agreement`: a built-in agreement by name or a YAML file;
- :func:`skyfence.read_tracks`: a CSV or Parquet state-vector file as the canonical table;
- :func:`skyfence.detect_conflicts`: conflicts between aircraft at one instant;
- :func:`skyfence.analyze`: the batch pipeline (crossings, encounters, summary).
"""

from skyfence._cachedir import ensure_numba_cache

ensure_numba_cache()  # before numba is imported: compiled kernels need a writable cache

from skyfence.agreement import load_agreement  # noqa: E402
from skyfence.analysis.run import analyze  # noqa: E402
from skyfence.detect.conflict_table import detect_conflicts  # noqa: E402
from skyfence.sources.tabular import read_tracks  # noqa: E402

__version__ = "0.1.0"
__all__ = ["analyze", "detect_conflicts", "load_agreement", "read_tracks"]
