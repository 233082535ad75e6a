"""``skyfence report``: results folders in, one self-contained HTML file or a PDF of it out."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from skyfence.errors import SkyfenceError
from skyfence.progress import Steps
from skyfence.report.results import Period, Results, load_results, results_folders

FORMATS = (".html", ".htm", ".pdf")


@dataclass
class Report:
    """What was written, with the figures it shows."""

    path: Path
    results: Results
    figures: object
    claims: list
    html: str
    pages: int | None = None
    incidents: object = None
    """The incidents section's figures (:class:`skyfence.report.incidents.IncidentFigures`), with a store."""


def build_report(folders: Path | list[Path], out: Path, period: Period = Period(), claims_file: Path | None = None,
                 progress: Steps | None = None, store: str | Path | None = None) -> Report:
    """Read the results folder(s), draw every figure, write ``out`` (.html or .pdf by its extension);
    with ``store`` (an incident store URL), an incidents section too."""
    suffix = out.suffix.lower()
    if suffix not in FORMATS:
        raise SkyfenceError(f"{out}: the report is written as .html or .pdf (by the file's extension)")
    progress = progress or Steps(None)
    from skyfence.report.claims import check_claims, claims_for, load_claims
    from skyfence.report.combine import combine
    from skyfence.report.figures import compute

    if claims_file is not None:
        load_claims(claims_file)  # a bad claims file is said before the folders are read

    folders = results_folders([folders] if isinstance(folders, Path) else list(folders))
    with progress.step(f"reading {len(folders)} results folder{'s' if len(folders) > 1 else ''}",
                       total=len(folders)):
        parts = []
        for folder in folders:
            parts.append(load_results(folder, period))
            progress.advance()
        results = combine(parts)
    claims = claims_for(claims_file, results)
    with progress.step("counting"):
        fig = compute(results)
        checked = check_claims(claims, results, fig)
    incidents = None
    if store is not None:
        from skyfence.incidents import IncidentStore
        from skyfence.report.incidents import incident_figures

        with progress.step("reading the incident store"), IncidentStore.open(store, create=False) as opened:
            incidents = incident_figures(opened, period)
    svgs = draw_figures(results, fig, progress)
    with progress.step("writing the document"):
        html = render_html(results, fig, checked, svgs, incidents)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SkyfenceError(f"{out.parent}: cannot create the folder ({exc.strerror})") from None
    pages = None
    if suffix == ".pdf":
        with progress.step("making the PDF"):
            pages = write_pdf(html, out)
    else:
        try:
            out.write_text(html, encoding="utf-8")
        except OSError as exc:
            raise SkyfenceError(f"{out}: cannot write ({exc.strerror})") from None
    return Report(out, results, fig, checked, html, pages, incidents)


def draw_figures(results: Results, fig, progress: Steps) -> dict[str, str]:
    """Every figure of the report as inline SVG, by name."""
    from skyfence.report import charts, maps
    from skyfence.report.style import party_colours, to_svg

    parties = list((results.agreement or {}).get("skyfence", {}).get("parties", {})) or [p.party for p in fig.parties]
    colours = party_colours(parties + sorted({p.party for p in fig.parties} - set(parties)))
    lookahead = (results.agreement or {}).get("skyfence", {}).get("thresholds", {}).get("crossing", {}).get(
        "warning_lookahead")
    tracks = maps.TrackIndex(results.tracks)
    drawers = {
        "per_day": lambda: charts.crossings_per_day(fig, colours),
        "crossings_map": lambda: maps.crossings_map(results, tracks),
        "depth_duration": lambda: charts.depth_and_duration(results),
        "time_of_day": lambda: charts.time_of_day(results, colours),
        "levels_per_day": lambda: charts.encounter_levels_per_day(results, fig.days),
        "encounters_map": lambda: maps.encounters_map(results, tracks, colours),
        "manoeuvres": lambda: charts.manoeuvres_by_kind(results, colours),
        "interactions_map": lambda: maps.interactions_map(results, tracks, colours),
        "lead_times": lambda: charts.warning_lead_times(results, lookahead),
    }
    if results.encounters.height == 0:  # an empty map is a page of nothing: the text says there were none
        del drawers["encounters_map"]
    if results.interactions.height == 0:
        del drawers["interactions_map"]
    if not fig.behaviour["manoeuvres"]["total"]:  # nor an empty chart
        del drawers["manoeuvres"]
    svgs = {}
    with progress.step("drawing figures and maps", total=len(drawers)):
        for name, draw in drawers.items():
            svgs[name] = to_svg(draw(), name)
            progress.advance()
    return svgs


def render_html(results: Results, fig, checked, svgs: dict[str, str], incidents=None) -> str:
    """The document, from the bundled Jinja2 template."""
    import jinja2

    from skyfence.report.document import context

    env = jinja2.Environment(loader=jinja2.PackageLoader("skyfence.report", "templates"),
                             autoescape=jinja2.select_autoescape(["html", "j2"]), undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True)
    return env.get_template("report.html.j2").render(**context(results, fig, checked, svgs, incidents))


def write_pdf(html: str, out: Path) -> int:
    """The HTML typeset by WeasyPrint; the number of pages."""
    import logging

    import weasyprint

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    doc = weasyprint.HTML(string=html).render()
    try:
        doc.write_pdf(out)
    except OSError as exc:
        raise SkyfenceError(f"{out}: cannot write ({exc.strerror})") from None
    return len(doc.pages)
