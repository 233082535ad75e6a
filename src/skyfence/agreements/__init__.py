"""The built-in agreements (YAML and GeoJSON files)."""

BUILTIN = ("euphrates-2017",)
