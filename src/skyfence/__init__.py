"""skyfence: watch shared airspace against a deconfliction agreement.

Public entry points:

- :func:`skyfence.load_agreement`: a built-in agreement by name or a YAML file;
- :func:`skyfence.read_tracks`: a CSV or Parquet state-vector file as the canonical table;
- :func:`skyfence.analyze`: the batch pipeline (crossings, summary).
"""

from skyfence.agreement import load_agreement
from skyfence.analysis.run import analyze
from skyfence.sources.tabular import read_tracks

__version__ = "0.1.0"
__all__ = ["analyze", "load_agreement", "read_tracks"]
