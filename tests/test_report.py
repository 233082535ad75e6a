"""``skyfence report``: the numbers equal summary.json's, the PDF's first page is the summary, an empty
day still reports, periods, issue 9's columns, claims, self-contained HTML, errors."""

from __future__ import annotations

import json
from unittest import mock
import re
import shutil
import subprocess
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import polars as pl
import pytest

from skyfence.errors import SkyfenceError
from skyfence.report.build import build_report
from skyfence.report.claims import check_claims, claims_for, load_claims
from skyfence.report.figures import compute
from skyfence.report.results import load_results, parse_period
from tests.report_data import analysed, quiet_day, runner, simulated_tracks
from skyfence.cli import app


class Figures(HTMLParser):
    """The text of every element marked ``data-figure`` in a report."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}
        self._open: list[str | None] = []
        self.ids: list[str] = []
        self.refs: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self._open.append(a.get("data-figure"))
        if "id" in a:
            self.ids.append(a["id"])
        for k in ("href", "xlink:href"):
            if a.get(k, "").startswith("#"):
                self.refs.append(a[k][1:])
        for v in a.values():
            self.refs += re.findall(r"url\(#([^)]+)\)", v or "")

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        self._open.pop()

    def handle_endtag(self, tag):
        if self._open:
            self._open.pop()

    def handle_data(self, data):
        for key in self._open:
            if key is not None:
                self.values[key] = self.values.get(key, "") + data


def parse(html: str) -> Figures:
    p = Figures()
    p.feed(html)
    return p


@pytest.fixture(scope="module")
def sim(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("sim")
    return analysed(simulated_tracks(folder), folder / "results")


def test_report_numbers_equal_summary(sim, tmp_path):
    result = runner.invoke(app, ["report", str(sim), "--out", str(tmp_path / "r.html"), "-q"])
    assert result.exit_code == 0, result.output
    values = parse((tmp_path / "r.html").read_text()).values
    s = json.loads((sim / "summary.json").read_text())
    crossings = pl.read_csv(sim / "crossings.csv")
    assert s["crossings"]["total"] >= 3 and s["encounters"]["total"] >= 3  # the data has something to report
    assert int(values["crossings.total"]) == s["crossings"]["total"] == crossings.height
    for party, n in s["crossings"]["by_party"].items():
        assert int(values[f"crossings.by_party.{party}"]) == n
    assert int(values["encounters.total"]) == s["encounters"]["total"]
    for level, n in s["encounters"]["by_level"].items():
        assert int(values[f"encounters.by_level.{level}"]) == n
    assert int(values["encounters.losses_of_separation"]) == s["encounters"]["losses_of_separation"]
    assert int(values["crossings.warning.with_warning"]) == s["crossings"]["warning"]["with_warning"]
    assert int(values["interactions.total"]) == s["interactions"]["total"]
    assert int(values["manoeuvres.total"]) == s["manoeuvres"]["total"]
    # simulated data says so (a report of a simulated day judged the 2017 claims as if it had happened)
    assert s["tracks"]["simulated_states"] == s["tracks"]["states"] > 0
    assert "The data is simulated (skyfence simulate), not recorded" in (tmp_path / "r.html").read_text()
    days = (date.fromisoformat(s["tracks"]["end"][:10]) - date.fromisoformat(s["tracks"]["start"][:10])).days + 1
    assert float(values["crossings.mean_per_day"]) == pytest.approx(s["crossings"]["total"] / days, abs=0.05)
    for party, figs in s["tracks"]["by_party"].items():
        if party == "unknown":
            continue
        assert int(values[f"flights.{party}"]) == figs["flights"]
        mine = crossings.filter(pl.col("party") == party)
        share = mine.select("track_id", "flight_id").unique().height / figs["flights"]
        assert values[f"crossings.share.{party}"] == f"{share:.1%}"
        assert float(values[f"crossings.mean_per_day.{party}"]) == pytest.approx(mine.height / days, abs=0.05)


def test_html_is_self_contained(sim, tmp_path):
    report = build_report(sim, tmp_path / "r.html")
    html = report.html
    assert "<script" not in html and "<link" not in html and "<img" not in html
    assert not re.search(r'(src|href)="(https?:)?//', html)
    assert html.count("<svg") == 9 and html.count("<figcaption>") == 9
    p = parse(html)
    assert len(p.ids) == len(set(p.ids)), "ids repeat across the inline figures"
    assert set(p.refs) <= set(p.ids), "a figure refers to an id that is not in the page"
    for n in range(1, 10):
        assert f"<b>Figure {n}.</b>" in html


def test_pdf_first_page_is_the_summary(sim, tmp_path):
    if shutil.which("pdftotext") is None or shutil.which("pdftoppm") is None:
        pytest.skip("poppler-utils (pdftotext, pdftoppm) not installed; CI installs it")
    out = tmp_path / "r.pdf"
    report = build_report(sim, out)
    assert out.read_bytes()[:5] == b"%PDF-" and report.pages >= 6
    first = subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(out), "-"], capture_output=True,
                           text=True, check=True).stdout
    first = " ".join(first.split())
    s = json.loads((sim / "summary.json").read_text())
    for text in ("Deconfliction report", "CROSSINGS (SEEN TO CROSS)", "Crossings by party", "The claims, checked",
                 "6 to 8 times a day", f"mean {s['crossings']['total']:.1f} a day",
                 f"{s['crossings']['warning']['with_warning']} of {s['crossings']['total']}", "page 1 of"):
        assert text in first, text
    everything = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True, check=True).stdout
    for n in range(1, 10):
        assert f"Figure {n}." in everything
    subprocess.run(["pdftoppm", "-f", "3", "-l", "3", "-r", "40", "-png", str(out), str(tmp_path / "page")],
                   check=True)
    from PIL import Image

    import numpy as np

    page = np.asarray(Image.open(next(tmp_path.glob("page*.png"))).convert("L"))
    dark = (page < 200).mean()
    assert dark > 0.05, "page 3 (the crossings map) is nearly blank"


def test_a_day_with_no_events_gives_a_sound_report(tmp_path):
    results = analysed(quiet_day(tmp_path), tmp_path / "results")
    assert json.loads((results / "summary.json").read_text())["crossings"]["total"] == 0
    report = build_report(results, tmp_path / "quiet.pdf")
    assert report.pages >= 5
    html = build_report(results, tmp_path / "quiet.html").html
    values = parse(html).values
    assert values["crossings.total"] == "0" and values["encounters.total"] == "0"
    assert values["crossings.mean_per_day"] == "0.0"
    assert "No crossings in this period" in html and "No encounters in this period." in html
    # no empty maps of encounters and interactions (a page of nothing each; user trial): the text says none
    assert 'id="fig-encounters_map"' not in html and 'id="fig-interactions_map"' not in html
    assert "No intercepts, mock engagements or shadowing in this period." in html
    assert "simulated" not in html  # recorded (synthetic) states: nothing said
    # nor an empty chart of manoeuvres (its axes ran 0 to 1 around "No manoeuvres"; user trial)
    assert 'id="fig-manoeuvres"' not in html and "No manoeuvres in this period." in html
    assert html.count("<svg") == 6
    # the pairs the results were made with are those the text names
    assert "two aircraft of different parties are at" in html
    summary = json.loads((results / "summary.json").read_text())
    summary["encounters"]["settings"]["pairs"] = "all"
    (results / "summary.json").write_text(json.dumps(summary))
    html = build_report(results, tmp_path / "all.html").html
    assert html.count("any two aircraft (the results were made with every") == 2


def test_period_limits_every_count(sim, tmp_path):
    crossings = pl.read_parquet(sim / "crossings.parquet").sort("entry_time")
    cut = crossings["entry_time"][2]
    results = load_results(sim, parse_period(cut.isoformat(), None))
    fig = compute(results)
    assert fig.crossings["total"] == crossings.filter(pl.col("entry_time") >= cut).height
    encounters = pl.read_parquet(sim / "encounters.parquet")
    assert fig.encounters["total"] == encounters.filter(pl.col("start_time") >= cut).height
    day = crossings["entry_time"][0].date().isoformat()
    assert compute(load_results(sim, parse_period(day, day))).crossings["total"] == crossings.height
    nothing = compute(load_results(sim, parse_period("2017-12-01", "2017-12-02")))
    assert nothing.crossings["total"] == 0 and nothing.days == []
    # the traffic card's aircraft and states are the whole results': said with a period (user trial)
    html = build_report(sim, tmp_path / "p.html", parse_period(cut.isoformat(), None)).html
    assert "states in all the results analysed" in html
    assert "in all the results analysed" not in build_report(sim, tmp_path / "w.html").html


def test_reads_issue_9_columns_and_tolerates_missing_ones(sim, tmp_path):
    folder = tmp_path / "newer"
    shutil.copytree(sim, folder)
    cr = pl.read_parquet(folder / "crossings.parquet").sort("entry_time")
    kinds = ["first_seen_inside", "region_edge"] + ["crossed"] * (cr.height - 2)
    cr.with_columns(pl.Series("entry_kind", kinds)).drop("intent", "warning_lead_s").write_parquet(
        folder / "crossings.parquet")
    (folder / "crossings.csv").unlink()
    enc = pl.read_parquet(folder / "encounters.parquet")
    enc.with_columns((pl.col("min_horizontal_nm") / 10).alias("closest_horizontal_nm"),
                     pl.col("time_of_min").alias("closest_time")).drop(
        "min_lat", "min_lon", "lat_at_min", "lon_at_min", "closest_lat", "closest_lon", strict=False).write_parquet(
        folder / "encounters.parquet")
    (folder / "interactions.parquet").unlink()
    (folder / "interactions.csv").unlink()
    report = build_report(folder, tmp_path / "r.html")
    values = parse(report.html).values
    assert int(values["crossings.total"]) == cr.height - 2
    assert values["crossings.other.first_seen_inside"] == "1" and values["crossings.other.region_edge"] == "1"
    closest = report.results.encounters["closest_nm"].min()
    assert closest == pytest.approx(enc["min_horizontal_nm"].min() / 10)
    assert f"{closest:.2f}" in report.html
    assert values["interactions.total"] == "0"
    assert any("interactions" in n for n in report.results.notes)


def test_claims_are_checked_and_explained(sim, tmp_path):
    results = load_results(sim)
    fig = compute(results)
    checked = {c.claim.measure: c for c in check_claims(load_claims(), results, fig)}
    per_day = checked["crossings_per_day"]
    rs = next(p for p in fig.parties if p.party == "russia_syria")
    # eight hours of data: a figure "a day" is not judged on them
    assert 7.5 < fig.hours <= 8.0 and not fig.whole_days
    assert per_day.value is None and per_day.verdict == "cannot tell"
    assert per_day.shown == f"{rs.total} in {fig.hours:.1f} h of data: not whole days"
    assert "days without a crossing counted as zero" in per_day.how
    share = checked["share_of_sorties_crossed"]
    # a share of a handful of flights is not judged (0 of 1 read "less than said"; user trial)
    assert rs.flights < 20 and share.value is None and share.verdict == "cannot tell"
    assert share.shown.endswith(f"({rs.flights_crossed} of {rs.flights} flights): too few flights to judge a share")
    with mock.patch("skyfence.report.claims.MIN_FLIGHTS_FOR_SHARE", 1):
        share = {c.claim.measure: c for c in check_claims(load_claims(), results, fig)}["share_of_sorties_crossed"]
    assert share.value == pytest.approx(rs.flights_crossed / rs.flights)
    # the 13 December 2017 encounter is not judged on a day of November (user trial), with its day or without
    nmac = checked["encounters_at_level"]
    assert nmac.value is None and nmac.shown.endswith("the claim is about 2017-12-13, a day not in the data")
    assert "on 2017-12-13" in nmac.how
    own = tmp_path / "claims.yaml"
    own.write_text("claims:\n  - said: a near collision\n    measure: encounters_at_level\n    level: nmac\n"
                   "    range: [1, null]\n  - said: that day\n    measure: encounters_at_level\n    level: nmac\n"
                   "    day: 2017-11-01\n    range: [1, null]\n")
    nmac, that_day = check_claims(load_claims(own), results, fig)
    assert nmac.value == that_day.value == results.encounters.filter(pl.col("max_level") == "nmac").height > 0
    # results made with every pair hold encounters within one party: not "between parties", not counted
    one_party = results.encounters.filter(pl.col("max_level") == "nmac").head(1).with_columns(
        pl.col("party_a").alias("party_b"))
    assert one_party.height == 1
    results.encounters = pl.concat([results.encounters, one_party])
    assert check_claims(load_claims(own), results, fig)[0].value == nmac.value
    # manoeuvres count where the agreement holds: an airliner's speed brakes over France are not the F-22's
    own.write_text("claims:\n  - said: speed brakes\n    measure: manoeuvres\n    kind: speed_brake\n"
                   "    party: coalition\n    range: [1, null]\n")
    before = check_claims(load_claims(own), results, fig)[0].value
    far = results.manoeuvres.head(1).with_columns(pl.lit("speed_brake").alias("manoeuvre"),
                                                  pl.lit("coalition").alias("party"), pl.lit(48.9).alias("lat"),
                                                  pl.lit(2.4).alias("lon"))
    results.manoeuvres = pl.concat([results.manoeuvres, far], how="vertical_relaxed")
    assert check_claims(load_claims(own), results, fig)[0].value == before
    near = far.with_columns(pl.lit(35.0).alias("lat"), pl.lit(40.5).alias("lon"))
    results.manoeuvres = pl.concat([results.manoeuvres, near], how="vertical_relaxed")
    assert check_claims(load_claims(own), results, fig)[0].value == before + 1
    own.write_text("claims:\n  - said: x\n    measure: manoeuvres\n    kind: orbit\n    on: 2017-12-13\n")
    with pytest.raises(SkyfenceError, match=r"claims\[0\]: unknown field True \(fields: said, source"):
        load_claims(own)
    own.write_text("claims:\n  - said: never\n    measure: encounters_at_level\n    level: loss\n    party: gren\n"
                   "    range: [0, 0]\n")
    with pytest.raises(SkyfenceError, match=r"claims\[0\]\.party: 'gren' is not a party of agreement "
                                            r"euphrates-2017 \(its parties: coalition, russia_syria\)"):
        claims_for(own, results)
    own.write_text("claims:\n  - said: x\n    measure: sorties\n")
    with pytest.raises(SkyfenceError, match=r"claims\[0\]\.measure"):
        load_claims(own)


def test_report_errors_are_one_line(sim, tmp_path):
    cases = [
        (["report", str(tmp_path / "none"), "--out", str(tmp_path / "r.html")], "no such folder"),
        (["report", str(tmp_path), "--out", str(tmp_path / "r.html")], "no summary.json"),
        (["report", str(sim), "--out", str(tmp_path / "r.docx")], ".html or .pdf"),
        (["report", str(sim), "--out", str(tmp_path / "r.html"), "--from", "yesterday"], "--from"),
        (["report", str(sim), "--out", str(tmp_path / "r.html"), "--from", "2017-11-02", "--to", "2017-11-01"],
         "--to must be after"),
        (["report", str(sim), "--out", str(tmp_path / "r.html"), "--store", f"sqlite:///{tmp_path}/none.db"],
         "no incident store there"),
    ]
    for args, message in cases:
        result = runner.invoke(app, args)
        assert result.exit_code != 0 and isinstance(result.exception, SkyfenceError), args
        assert message in str(result.exception)


def test_several_folders_report_as_one(tmp_path):
    tracks = pl.read_parquet(simulated_tracks(tmp_path))
    cut = tracks["time"].min() + (tracks["time"].max() - tracks["time"].min()) / 2
    folders = []
    for i, half in enumerate((tracks.filter(pl.col("time") < cut), tracks.filter(pl.col("time") >= cut))):
        path = tmp_path / f"half{i}.parquet"
        half.write_parquet(path)
        folders.append(analysed(path, tmp_path / f"results{i}"))
    out = tmp_path / "both.html"
    result = runner.invoke(app, ["report", *map(str, folders), "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    values = parse(out.read_text()).values
    docs = [json.loads((f / "summary.json").read_text()) for f in folders]
    assert int(values["crossings.total"]) == sum(d["crossings"]["total"] for d in docs)
    assert int(values["encounters.total"]) == sum(d["encounters"]["total"] for d in docs)
    assert int(values["manoeuvres.total"]) == sum(d["manoeuvres"]["total"] for d in docs)
    for party in ("coalition", "russia_syria"):
        assert int(values[f"flights.{party}"]) == sum(d["tracks"]["by_party"][party]["flights"] for d in docs)
        crossed = sum(pl.read_csv(f / "crossings.csv").filter(pl.col("party") == party)
                      .select("track_id", "flight_id").unique().height for f in folders)
        flights = int(values[f"flights.{party}"])
        assert values[f"crossings.share.{party}"] == f"{crossed / flights:.1%}"
    other = tmp_path / "other"
    shutil.copytree(folders[1], other)
    doc = json.loads((other / "summary.json").read_text())
    doc["agreement"]["name"] = "another-line"
    (other / "summary.json").write_text(json.dumps(doc))
    with pytest.raises(SkyfenceError, match="different agreements"):
        build_report([folders[0], other], tmp_path / "x.html")


def test_part_of_a_day_is_said_and_a_day_claim_judged_only_on_whole_days(sim, tmp_path):
    report = build_report(sim, tmp_path / "r.html")
    html = report.html
    assert f"(1 day, UTC; {report.figures.hours:.1f} h of data)" in html
    assert "claims about a day are not judged on them" in html
    # the same folder read as a whole day: judged
    whole = tmp_path / "whole"
    shutil.copytree(sim, whole)
    doc = json.loads((whole / "summary.json").read_text())
    day = doc["tracks"]["start"][:10]
    doc["tracks"]["start"], doc["tracks"]["end"] = f"{day}T00:00:00+00:00", f"{day}T23:59:59+00:00"
    doc["tracks"]["hours_per_day"] = [{"date": day, "hours": 24.0}]
    (whole / "summary.json").write_text(json.dumps(doc))
    results = load_results(whole)
    fig = compute(results)
    per_day = next(c for c in check_claims(claims_for(None, results), results, fig)
                   if c.claim.measure == "crossings_per_day")
    assert fig.whole_days and per_day.verdict in ("agrees", "less than said", "more than said")


def test_a_period_that_cuts_a_day_gives_no_share_of_the_days_flights(sim, tmp_path):
    crossings = pl.read_parquet(sim / "crossings.parquet").sort("entry_time")
    cut = crossings["entry_time"][1]
    report = build_report(sim, tmp_path / "r.html", period=parse_period(cut.isoformat(), None))
    assert report.figures.flights_by_party == {}
    assert all(p.share_crossed is None for p in report.figures.parties)
    assert "Flights are counted per whole UTC day" in report.html
    day = crossings["entry_time"][0].date().isoformat()
    whole = build_report(sim, tmp_path / "d.html", period=parse_period(day, day))
    assert whole.figures.flights_by_party and any(p.share_crossed for p in whole.figures.parties)


def test_the_bundled_claims_only_for_their_agreement(sim, tmp_path):
    other = tmp_path / "other"
    shutil.copytree(sim, other)
    doc = json.loads((other / "summary.json").read_text())
    doc["agreement"]["name"] = "swiss-line"
    (other / "summary.json").write_text(json.dumps(doc))
    report = build_report(other, tmp_path / "r.html")
    assert report.claims == []
    assert "No claims: none given for this agreement" in report.html
    assert "6 to 8 times a day" not in report.html


def test_overlapping_folders_are_refused_rather_than_counted_twice(sim, tmp_path):
    with pytest.raises(SkyfenceError, match="overlap in time .*counted twice"):
        build_report([sim, sim], tmp_path / "r.html")
    result = runner.invoke(app, ["report", str(sim), str(sim), "--out", str(tmp_path / "r.html"), "-q"])
    assert result.exit_code != 0 and "overlap in time" in str(result.exception)


def test_a_quoted_glob_names_the_folders_it_matches(sim, tmp_path):
    """``report 'results/day-*'`` (the shell left the pattern): the folders it matches (user trial)."""
    result = runner.invoke(app, ["report", str(sim.parent / "res*"), "--out", str(tmp_path / "r.html"), "-q"])
    assert result.exit_code == 0, result.output
    assert re.search(r"Report of 1 day: \d+ crossings?, \d+ encounters?, \d+ interactions? ", result.output)
    assert not re.search(r"\b1 (crossings|encounters|interactions)\b", result.output)
    result = runner.invoke(app, ["report", str(sim.parent / "nothing-*"), "--out", str(tmp_path / "r.html"), "-q"])
    assert result.exit_code != 0 and "nothing-*: no folders match" in str(result.exception)


def test_the_closest_approaches_list_a_shared_closest_point_once_at_its_highest_level():
    from datetime import datetime, timezone

    from skyfence.analysis.summary import one_per_closest_point

    at = datetime(2021, 10, 7, 14, 5, tzinfo=timezone.utc)
    enc = pl.DataFrame({"track_a": ["a", "a", "a", "c"], "track_b": ["b", "b", "b", "d"],
                        "closest_time": [at, at, None, at], "max_level": ["warning", "loss", "caution", "warning"],
                        "closest_horizontal_nm": [2.48, 2.48, 4.0, 3.0]})
    got = one_per_closest_point(enc)
    assert got["max_level"].to_list() == ["loss", "caution", "warning"]


def test_map_labels_never_cover_each_other_and_the_least_important_give_way():
    """Busy maps printed town, airfield and encounter labels over each other (user trial)."""
    import numpy as np

    from skyfence.report.labels import Labels
    from skyfence.report.style import new_figure

    fig = new_figure(3.0)
    ax = fig.add_subplot(1, 1, 1)
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 10)
    labels = Labels()
    rng = np.random.default_rng(3)
    for k in range(40):  # a crowded cluster of towns
        labels.add(5 + rng.normal(0, 0.3), 5 + rng.normal(0, 0.3), f"TOWN{k}", rank=1, fontsize=6)
    labels.add(5, 5, "RFF1021/RCH301", rank=0, fontsize=6)  # in the middle of them, and more important
    labels.add(1, 9, "ALONE", rank=2, fontsize=6)
    labels.add(9.99, 0.01, "CORNER", rank=2, fontsize=6)  # only its left-above spot is inside the map
    labels.draw(ax)
    renderer = fig.canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    boxes = {t.get_text(): t.get_window_extent(renderer) for t in ax.texts}
    assert len(boxes) == labels.placed == len(ax.texts) and labels.left_out > 20
    assert {"RFF1021/RCH301", "ALONE", "CORNER"} <= set(boxes)
    listed = list(boxes.values())
    assert not any(a.overlaps(b) for i, a in enumerate(listed) for b in listed[i + 1:])
    assert all(frame.x0 <= b.x0 and b.x1 <= frame.x1 and frame.y0 <= b.y0 and b.y1 <= frame.y1 for b in listed)
    assert boxes["CORNER"].x1 <= renderer.points_to_pixels(0) + ax.transData.transform((9.99, 0.01))[0]


def test_days_without_data_are_not_days_of_the_report(sim, tmp_path):
    """Data of two days a month apart is a report of two days, not of 31 days mostly zeros (a report of the
    real samples, which span 2017-2024, came out as 1,407 days; user trial); the hours are those the days hold."""
    from datetime import timedelta

    tracks = pl.read_parquet(sim.parent / "tracks.parquet")
    both = tmp_path / "two.parquet"
    pl.concat([tracks, tracks.with_columns(pl.col("time") + timedelta(days=30))]).write_parquet(both)
    res = analysed(both, tmp_path / "res")
    covered = {r["date"]: r["hours"] for r in json.loads((res / "summary.json").read_text())["tracks"]["hours_per_day"]}
    report = build_report(res, tmp_path / "r.html")
    fig = report.figures
    assert [d.isoformat() for d in fig.days] == ["2017-11-01", "2017-12-01"]
    assert fig.hours == pytest.approx(covered["2017-11-01"] + covered["2017-12-01"])
    assert 14 < fig.hours < 18 and not fig.whole_days  # 8 h of simulated traffic a day
    assert len(fig.daily_total) == 2


def test_with_no_data_every_claim_cannot_be_told(sim, tmp_path):
    """A results folder with nothing analysed: no claim is judged on its zeros (the F-22 claims said 'less than
    said'; user trial)."""
    res = analysed(sim.parent / "tracks.parquet", tmp_path / "empty", "--from", "2017-11-05")
    assert json.loads((res / "summary.json").read_text())["tracks"]["states"] == 0
    report = build_report(res, tmp_path / "r.html")
    assert report.claims and {c.verdict for c in report.claims} == {"cannot tell"}


def test_a_crossing_still_inside_at_the_last_report_is_marked_and_kept_out_of_the_times(sim):
    """Swiss traffic: 209 of 229 stays were still inside at the aircraft's last report, and the report listed their
    cut-short minutes, and charted them, as whole stays (user trial)."""
    import dataclasses

    from skyfence.report.charts import depth_and_duration
    from skyfence.report.document import _crossing_rows

    results = load_results(sim)
    crossed = results.crossings.filter(pl.col("entry_kind") == "crossed")
    assert crossed.height >= 2
    first = crossed["entry_time"].min()
    cut = results.crossings.with_columns((pl.col("open") | (pl.col("entry_time") == first)).alias("open"))
    rows = _crossing_rows(dataclasses.replace(results, crossings=cut))
    assert [r["minutes"].startswith("≥ ") for r in rows] == [r["open"] for r in rows]
    assert rows[0]["open"] and not all(r["open"] for r in rows)
    fig = depth_and_duration(dataclasses.replace(results, crossings=cut))
    assert fig.axes[1].get_xlabel().endswith("(1 still inside at the last report not shown)")
    shown = sum(p.get_height() for p in fig.axes[1].patches)
    assert shown == crossed.height - 1
