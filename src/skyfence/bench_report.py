"""Benchmark ``report``: a 30-day results folder reported as HTML and as PDF.

The folders are real ``analyze`` output: 30 simulated days of the built-in scenario (each day its own
seed and date), each analysed on its own as a daily job would (analysing a month in one run needs
about 1 GB of memory a day). They are made once and kept in the benchmark's work folder.
"""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

DAYS = 30


def results_folders(workdir: Path, days: int = DAYS, seed: int = 2017) -> list[Path]:
    """The analysed folders of ``days`` simulated days, one a day (made on first use)."""
    from skyfence.agreement import load_agreement
    from skyfence.analysis.run import analyze
    from skyfence.sim.run import simulate
    from skyfence.sim.scenario import load_scenario

    scenario, base = load_scenario("euphrates-2017")
    agreement = load_agreement(scenario.agreement)
    root = workdir / f"report-{days}d-{seed}"
    folders = []
    for day in range(days):
        out = root / f"day{day:02d}"
        if not (out / "summary.json").is_file():
            tracks = root / f"tracks-day{day:02d}.parquet"
            if not tracks.is_file():
                one = scenario.model_copy(update={"start": scenario.start + timedelta(days=day)})
                tracks.parent.mkdir(parents=True, exist_ok=True)
                simulate(one, base, 24.0, seed + day).tracks.write_parquet(tracks, compression="zstd")
            analyze([tracks], agreement, out)
        folders.append(out)
    return folders


def bench_report(workdir: Path) -> dict:
    """Seconds to write the report of the 30 daily folders, as HTML and as PDF (each from the folders)."""
    import json

    from skyfence.report.build import build_report

    folders = results_folders(workdir)
    summaries = [json.loads((f / "summary.json").read_text()) for f in folders]
    t0, c0 = time.perf_counter(), time.process_time()
    html = build_report(folders, workdir / "report-30d.html")
    t_html, c_html = time.perf_counter() - t0, time.process_time() - c0
    t0, c0 = time.perf_counter(), time.process_time()
    pdf = build_report(folders, workdir / "report-30d.pdf")
    t_pdf, c_pdf = time.perf_counter() - t0, time.process_time() - c0
    return {"bench": "report", "folders": len(folders), "days": len(html.figures.days),
            "states_analysed": sum(s["tracks"]["states"] for s in summaries),
            "crossings": html.figures.crossings["total"], "encounters": html.figures.encounters["total"],
            "manoeuvres": html.figures.behaviour["manoeuvres"]["total"], "seconds_html": round(t_html, 2), "cpu_seconds_html": round(c_html, 2),
            "html_mb": round((workdir / "report-30d.html").stat().st_size / 1e6, 2),
            "seconds_pdf": round(t_pdf, 2), "cpu_seconds_pdf": round(c_pdf, 2), "pdf_pages": pdf.pages}
