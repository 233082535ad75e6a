"""Geometry: the local projection, boundary indexes and geodesy helpers."""
