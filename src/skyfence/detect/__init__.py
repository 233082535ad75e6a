"""Detectors: pure functions over arrays. No I/O, no globals, no clock."""
