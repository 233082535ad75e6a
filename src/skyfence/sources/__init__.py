"""Readers: each input format is one small module producing the canonical track table."""

from skyfence.sources.formats import detect, read_any
from skyfence.sources.tabular import ReadReport, read_table, read_tracks

__all__ = ["ReadReport", "detect", "read_any", "read_table", "read_tracks"]
