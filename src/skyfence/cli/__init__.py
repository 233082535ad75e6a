"""The ``skyfence`` command line."""

from skyfence.cli.app import app, main
from skyfence.cli import agreement_cmd, analyze_cmd, demo_cmd, evaluate_cmd, ingest_cmd, replay_cmd, simulate_cmd  # noqa: F401,E402

__all__ = ["app", "main"]
from skyfence.cli import compare_cmd, export_cmd, incidents_cmd, monitor_cmd, report_cmd  # noqa: F401,E402
from skyfence.cli import hotline_cmd  # noqa: F401,E402
from skyfence.cli import serve_cmd, users_cmd  # noqa: F401,E402

from skyfence.cli.app import reflow_help  # noqa: E402

reflow_help(app)
