"""The canonical track table and what is done to it."""

from skyfence.tracks.schema import TRACK_SCHEMA, empty_tracks

__all__ = ["TRACK_SCHEMA", "empty_tracks"]
