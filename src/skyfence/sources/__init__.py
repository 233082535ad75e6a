"""Readers: each input format is one small module producing the canonical track table."""

from skyfence.sources.tabular import ReadReport, read_table, read_tracks

__all__ = ["ReadReport", "read_table", "read_tracks"]
