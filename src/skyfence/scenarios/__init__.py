"""The built-in scenarios (YAML files)."""

BUILTIN = ("euphrates-2017",)
