"""Benchmark ``report``: a 30-day results folder reported as HTML and as PDF.

The folder is real ``analyze`` output: 30 simulated days of the built-in scenario (each day its own
seed and date), analysed together. It is made once and kept in the benchmark's work folder.
"""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

DAYS = 30


def results_folder(workdir: Path, days: int = DAYS, seed: int = 2017) -> Path:
    """The analysed folder of ``days`` simulated days (made on first use)."""
    out = workdir / f"report-{days}d-{seed}"
    if (out / "summary.json").is_file():
        return out
    from skyfence.agreement import load_agreement
    from skyfence.analysis.run import analyze
    from skyfence.sim.run import simulate
    from skyfence.sim.scenario import load_scenario

    scenario, base = load_scenario("euphrates-2017")
    tracks = workdir / f"report-{days}d-{seed}-tracks"
    tracks.mkdir(parents=True, exist_ok=True)
    files = []
    for day in range(days):
        path = tracks / f"day{day:02d}.parquet"
        if not path.is_file():
            one = scenario.model_copy(update={"start": scenario.start + timedelta(days=day)})
            simulate(one, base, 24.0, seed + day).tracks.write_parquet(path, compression="zstd")
        files.append(path)
    analyze(files, load_agreement(scenario.agreement), out)
    return out


def bench_report(workdir: Path) -> dict:
    """Seconds to write the report of the 30-day folder, as HTML and as PDF (each from the folder)."""
    import json

    from skyfence.report.build import build_report

    folder = results_folder(workdir)
    summary = json.loads((folder / "summary.json").read_text())
    t0 = time.perf_counter()
    html = build_report(folder, workdir / "report-30d.html")
    t_html = time.perf_counter() - t0
    t0 = time.perf_counter()
    pdf = build_report(folder, workdir / "report-30d.pdf")
    t_pdf = time.perf_counter() - t0
    return {"bench": "report", "days": len(html.figures.days), "states_analysed": summary["tracks"]["states"],
            "crossings": summary["crossings"]["total"], "encounters": summary["encounters"]["total"],
            "manoeuvres": summary["manoeuvres"]["total"], "seconds_html": round(t_html, 2),
            "html_mb": round((workdir / "report-30d.html").stat().st_size / 1e6, 2),
            "seconds_pdf": round(t_pdf, 2), "pdf_pages": pdf.pages}
