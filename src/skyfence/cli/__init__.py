"""The ``skyfence`` command line."""

from skyfence.cli.app import app, main
from skyfence.cli import agreement_cmd, analyze_cmd, demo_cmd  # noqa: F401,E402  (register the commands)

__all__ = ["app", "main"]
