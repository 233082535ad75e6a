"""Loading an agreement: YAML in, a validated :class:`Agreement` out, or one line naming the bad field."""

from __future__ import annotations

import difflib
import re
from importlib import resources
from pathlib import Path

import shapely
import yaml
from pydantic import ValidationError

from skyfence.agreement.limits import MAX_YAML_BYTES, LimitError, load_yaml, read_text
from skyfence.agreement.identify import PartyIdentifier, RangeTable, icao_blocks, parse_hex_range
from skyfence.agreement.model import (
    Agreement, Contact, CrossingThresholds, HotlineSettings, IncidentThresholds, ManoeuvreThresholds, Party,
    RestrictedArea, SeparationThresholds, Thresholds,
)
from skyfence.agreement.schema import AgreementSpec, ContactSpec, PartySpec
from skyfence.agreement.shapes import ShapeError, check_line, check_polygon, read_shape
from skyfence.agreement.sides import SideError, side_of_point, side_toward, split_sides
from skyfence.errors import AgreementError
from skyfence.geo.projection import LocalProjection
from skyfence.units import (
    UnitError, parse_acceleration, parse_altitude, parse_duration, parse_length, parse_speed,
)

from skyfence.agreements import BUILTIN  # noqa: E402  (re-exported)


def builtin_path(name: str) -> Path:
    """The YAML file of a built-in agreement."""
    return Path(str(resources.files("skyfence.agreements").joinpath(f"{name}.yaml")))


def load_agreement(ref: str | Path) -> Agreement:
    """A built-in agreement by name, or an agreement file by path."""
    ref_text = str(ref)
    if ref_text in BUILTIN:
        path, source = builtin_path(ref_text), f"built-in agreement {ref_text}"
    else:
        path, source = Path(ref_text), ref_text
        if not path.exists():
            raise AgreementError(source, "", f"no such file, and not a built-in agreement (built-in: {', '.join(BUILTIN)})")
        if not path.is_file():
            raise AgreementError(source, "", "is not a file")
    try:
        raw = load_yaml(read_text(path, MAX_YAML_BYTES))
    except LimitError as exc:
        raise AgreementError(source, "", str(exc)) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark else ""
        raise AgreementError(source, "", f"not valid YAML: {where}{getattr(exc, 'problem', exc)}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise AgreementError(source, "", f"cannot read: {exc}") from None
    return build_agreement(raw, source, path.parent)


def _unitless(value: object) -> bool:
    """A bare number other than 0, where a length or an altitude is meant."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value != 0


def _loc(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def build_agreement(raw: object, source: str, base_dir: Path) -> Agreement:
    """Validate a parsed agreement document and derive its geometry."""
    if not isinstance(raw, dict):
        raise AgreementError(source, "", "expected a mapping of fields (name, parties, region, line, ...)")
    try:
        spec = AgreementSpec.model_validate(raw)
    except ValidationError as exc:
        errors = exc.errors()
        first = errors[0]
        more = f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})" if len(errors) > 1 else ""
        msg = first["msg"].removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            msg = "unknown field"
        raise AgreementError(source, _loc(first["loc"]), msg + more) from None
    return _Builder(spec, source, base_dir).build()


class _Builder:
    def __init__(self, spec: AgreementSpec, source: str, base_dir: Path) -> None:
        self.spec, self.source, self.base_dir = spec, source, base_dir

    def fail(self, field: str, message: str) -> AgreementError:
        return AgreementError(self.source, field, message)

    def build(self) -> Agreement:
        spec = self.spec
        ids = [p.id for p in spec.parties]
        for i, pid in enumerate(ids):
            if pid in ids[:i]:
                raise self.fail(f"parties[{i}].id", f"party {pid!r} is defined twice")
            if pid == "unknown":
                raise self.fail(f"parties[{i}].id", "'unknown' is reserved for unidentified aircraft")
        identifier = self._identifier(spec.parties)
        thresholds = self._thresholds()

        region = self._shape("region", spec.region)
        try:
            check_polygon(region)
        except ShapeError as exc:
            raise self.fail("region", str(exc)) from None
        line = self._shape("line", spec.line)
        try:
            check_line(line)
        except ShapeError as exc:
            raise self.fail("line", str(exc)) from None
        if line.geom_type == "MultiLineString":
            line = shapely.line_merge(line)

        lon0, lat0 = region.centroid.x, region.centroid.y
        projection = LocalProjection(round(lon0, 4), round(lat0, 4))
        region_xy = projection.geometry_forward(region)
        line_xy = projection.geometry_forward(line)
        if not line_xy.intersects(region_xy):
            raise self.fail("line", "the line does not cut the region: it lies outside it")
        try:
            left, right, extended_xy = split_sides(region_xy, line_xy)
        except SideError as exc:
            raise self.fail("line", str(exc)) from None

        areas: list[RestrictedArea] = []
        taken: dict[str, int] = {}
        for i, side in enumerate(spec.sides):
            where = f"sides[{i}]"
            self._party(f"{where}.party", side.party, ids)
            try:
                if side.toward is not None:
                    which = side_toward(line_xy, left, right, side.toward)
                else:
                    which = side_of_point(left, right, projection.forward(*side.point))
            except SideError as exc:
                raise self.fail(f"{where}.toward" if side.toward else f"{where}.point", str(exc)) from None
            if which in taken:
                raise self.fail(where, f"sides[{taken[which]}] already names this side of the line")
            taken[which] = i
            closed = self._closed_to(f"{where}.closed_to", side.closed_to, side.party, ids)
            floor, ceiling = self._band(where, side.floor, side.ceiling)
            poly_xy = left if which == "left" else right
            areas.append(RestrictedArea(
                id=f"{side.party}-side", name=f"{side.party} side of the line ({side.toward or 'by point'})",
                kind="side", owner=side.party, closed_to=closed,
                polygon=projection.geometry_inverse(poly_xy), polygon_xy=poly_xy, depth_xy=extended_xy,
                floor=floor, ceiling=ceiling))
        for i, zone in enumerate(spec.zones):
            where = f"zones[{i}]"
            if zone.id in [a.id for a in areas]:
                raise self.fail(f"{where}.id", f"zone id {zone.id!r} is used twice")
            poly = self._shape(f"{where}.shape", zone.shape)
            try:
                check_polygon(poly)
            except ShapeError as exc:
                raise self.fail(f"{where}.shape", str(exc)) from None
            if zone.owner is not None:
                self._party(f"{where}.owner", zone.owner, ids)
            closed = self._closed_to(f"{where}.closed_to", zone.closed_to, zone.owner, ids)
            if zone.owner is not None and zone.owner in closed:
                raise self.fail(f"{where}.closed_to", f"the zone is closed to its own owner {zone.owner!r}")
            if not poly.intersects(region):  # a circle with lon and lat swapped lands in another ocean
                raise self.fail(f"{where}.shape", "the zone lies wholly outside the region (lon and lat swapped?)")
            floor, ceiling = self._band(where, zone.floor, zone.ceiling)
            if zone.valid_from and zone.valid_to and zone.valid_from >= zone.valid_to:
                raise self.fail(f"{where}.valid_to", "the zone's validity ends before it starts")
            poly_xy = projection.geometry_forward(poly)
            areas.append(RestrictedArea(
                id=zone.id, name=zone.name or zone.id, kind="zone", owner=zone.owner, closed_to=closed,
                polygon=poly, polygon_xy=poly_xy, depth_xy=poly_xy.boundary, floor=floor, ceiling=ceiling,
                valid_from=zone.valid_from, valid_to=zone.valid_to))
        return Agreement(
            name=spec.name, title=spec.title or spec.name, description=(spec.description or "").strip(),
            source=self.source,
            parties=tuple(Party(p.id, p.name, self._contacts(i, p.contacts)) for i, p in enumerate(spec.parties)),
            identifier=identifier, region=region, line=line,
            line_extended=projection.geometry_inverse(extended_xy), projection=projection, areas=tuple(areas),
            thresholds=thresholds, party_rules={p.id: p.identify.model_dump() for p in spec.parties},
            line_name=spec.line_name, hotline=self._hotline())

    def _contacts(self, i: int, contacts: list[ContactSpec]) -> tuple[Contact, ...]:
        from skyfence.hotline.urls import ChannelURLError, parse_channel
        from skyfence.hotline.severity import SEVERITIES

        out, names = [], set()
        for k, c in enumerate(contacts):
            where = f"parties[{i}].contacts[{k}]"
            if c.name in names:
                raise self.fail(f"{where}.name", f"contact {c.name!r} is named twice")
            names.add(c.name)
            channels = []
            for j, text in enumerate(c.channels):
                try:
                    channels.append(parse_channel(text).text)
                except ChannelURLError as exc:
                    raise self.fail(f"{where}.channels[{j}]", str(exc)) from None
            if c.min_severity not in SEVERITIES:
                hint = difflib.get_close_matches(c.min_severity, SEVERITIES, n=1)
                extra = f" (did you mean {hint[0]!r}?)" if hint else f" (one of: {', '.join(SEVERITIES)})"
                raise self.fail(f"{where}.min_severity", f"unknown severity {c.min_severity!r}{extra}")
            try:
                within = parse_duration(c.acknowledge_within)
            except UnitError as exc:
                raise self.fail(f"{where}.acknowledge_within", str(exc)) from None
            if not within > 0:
                raise self.fail(f"{where}.acknowledge_within", "must be positive")
            out.append(Contact(c.name, tuple(channels), tuple(c.kinds) if c.kinds is not None else None,
                               c.min_severity, within, c.resend, c.secret_env))
        return tuple(out)

    def _hotline(self) -> HotlineSettings:
        h, values = self.spec.hotline, {}
        for name in ("group_wait", "repeat_interval"):
            try:
                values[name] = parse_duration(getattr(h, name))
            except UnitError as exc:
                raise self.fail(f"hotline.{name}", str(exc)) from None
            if values[name] < 0:
                raise self.fail(f"hotline.{name}", "must not be negative")
        return HotlineSettings(**values)

    def _shape(self, field: str, spec):
        try:
            return read_shape(spec, self.base_dir)
        except ShapeError as exc:
            raise self.fail(field, str(exc)) from None

    def _party(self, field: str, party: str, ids: list[str]) -> None:
        if party not in ids:
            hint = difflib.get_close_matches(party, ids, n=1)
            extra = f" (did you mean {hint[0]!r}?)" if hint else f" (parties are: {', '.join(ids)})"
            raise self.fail(field, f"unknown party {party!r}{extra}")

    def _closed_to(self, field: str, given: list[str] | None, owner: str | None, ids: list[str]) -> tuple[str, ...]:
        if given is None:
            return tuple(p for p in ids if p != owner)
        for k, party in enumerate(given):
            self._party(f"{field}[{k}]", party, ids)
        return tuple(dict.fromkeys(given))

    def _band(self, where: str, floor_text, ceiling_text) -> tuple[float, float]:
        for name, value in (("floor", floor_text), ("ceiling", ceiling_text)):
            if _unitless(value):  # 3000 was read as metres (9,843 ft): feet are what airspace is written in
                raise self.fail(f"{where}.{name}", f"{value:g} has no unit: write it as {value:g} ft, FL or m")
        try:
            floor = parse_altitude(floor_text)
        except UnitError as exc:
            raise self.fail(f"{where}.floor", str(exc)) from None
        try:
            ceiling = parse_altitude(ceiling_text)
        except UnitError as exc:
            raise self.fail(f"{where}.ceiling", str(exc)) from None
        if floor >= ceiling:
            raise self.fail(f"{where}.floor", f"the floor ({floor_text}) is not below the ceiling ({ceiling_text})")
        return floor, ceiling

    def _thresholds(self) -> Thresholds:
        c, s = self.spec.thresholds.crossing, self.spec.thresholds.separation

        def get(section: str, name: str, value, parse):
            if parse is parse_length and _unitless(value):
                raise self.fail(f"thresholds.{section}.{name}", f"{value:g} has no unit: write it as {value:g} NM, "
                                                                f"ft, km or m")
            try:
                v = parse(value)
            except UnitError as exc:
                raise self.fail(f"thresholds.{section}.{name}", str(exc)) from None
            if not v > 0 and name not in ("min_depth", "min_vertical_depth", "min_duration", "vertical_tolerance",
                                          "level_rate"):
                raise self.fail(f"thresholds.{section}.{name}", "must be positive")
            if v < 0:
                raise self.fail(f"thresholds.{section}.{name}", "must not be negative")
            return v

        crossing = CrossingThresholds(
            min_depth=get("crossing", "min_depth", c.min_depth, parse_length),
            min_vertical_depth=get("crossing", "min_vertical_depth", c.min_vertical_depth, parse_length),
            min_duration=get("crossing", "min_duration", c.min_duration, parse_duration),
            warning_lookahead=get("crossing", "warning_lookahead", c.warning_lookahead, parse_duration),
            flight_gap=get("crossing", "flight_gap", c.flight_gap, parse_duration),
            data_gap=get("crossing", "data_gap", c.data_gap, parse_duration))
        separation = SeparationThresholds(
            caution_horizontal=get("separation", "caution_horizontal", s.caution_horizontal, parse_length),
            caution_vertical=None if s.caution_vertical is None else get(
                "separation", "caution_vertical", s.caution_vertical, parse_length),
            horizontal=get("separation", "horizontal", s.horizontal, parse_length),
            vertical=get("separation", "vertical", s.vertical, parse_length),
            lookahead=get("separation", "lookahead", s.lookahead, parse_duration),
            nmac_horizontal=get("separation", "nmac_horizontal", s.nmac_horizontal, parse_length),
            nmac_vertical=get("separation", "nmac_vertical", s.nmac_vertical, parse_length),
            vertical_tolerance=get("separation", "vertical_tolerance", s.vertical_tolerance, parse_length),
            level_rate=get("separation", "level_rate", s.level_rate, parse_speed),
            alerting_m=s.alerting_m, alerting_n=s.alerting_n,
            interpolation_gap=get("separation", "interpolation_gap", s.interpolation_gap, parse_duration))
        if separation.vertical_tolerance >= separation.vertical:
            raise self.fail("thresholds.separation.vertical_tolerance", "must be smaller than the vertical minimum")
        if separation.nmac_horizontal > separation.horizontal:
            raise self.fail("thresholds.separation.nmac_horizontal", "is larger than the horizontal minimum")
        if separation.nmac_vertical > separation.vertical - separation.vertical_tolerance:
            raise self.fail("thresholds.separation.nmac_vertical", "is larger than the vertical minimum less the tolerance")
        if separation.caution_vertical is not None and separation.caution_vertical < separation.vertical:
            raise self.fail("thresholds.separation.caution_vertical", "is smaller than the vertical minimum")
        if separation.horizontal > separation.caution_horizontal:
            raise self.fail("thresholds.separation.horizontal", "is larger than caution_horizontal")
        i = self.spec.thresholds.incidents
        incidents = IncidentThresholds(
            quiet_period=get("incidents", "quiet_period", i.quiet_period, parse_duration),
            deep_crossing=get("incidents", "deep_crossing", i.deep_crossing, parse_length))
        return Thresholds(crossing, separation, self._manoeuvres(get), incidents)

    def _manoeuvres(self, get) -> ManoeuvreThresholds:
        m = self.spec.thresholds.manoeuvres
        parsers = {"hard_turn_duration": parse_duration, "brake_decel": parse_acceleration,
                   "brake_duration": parse_duration, "rapid_vertical_rate": parse_speed,
                   "rapid_duration": parse_duration, "weave_window": parse_duration, "loiter_radius": parse_length,
                   "loiter_window": parse_duration, "near_line": parse_length, "intercept_range": parse_length,
                   "intercept_closing": parse_speed, "intercept_duration": parse_duration,
                   "intercept_closest": parse_length, "intercept_vertical": parse_length, "engagement_range": parse_length,
                   "engagement_duration": parse_duration, "shadow_range": parse_length, "shadow_rate": parse_speed,
                   "shadow_duration": parse_duration}
        values = {}
        for name in type(m).model_fields:
            value = getattr(m, name)
            values[name] = get("manoeuvres", name, value, parsers[name]) if name in parsers else value
        return ManoeuvreThresholds(**values)

    def _identifier(self, parties: list[PartySpec]) -> PartyIdentifier:
        blocks = icao_blocks()
        known = sorted(blocks.countries)
        explicit, hexes, countries, patterns = [], [], [], []
        for i, party in enumerate(parties):
            rules, where = party.identify, f"parties[{i}].identify"
            if not (rules.countries or rules.hex_ranges or rules.icao24 or rules.callsigns):
                raise self.fail(where, f"party {party.id!r} identifies no aircraft: give countries, hex_ranges, "
                                       "icao24 or callsigns")
            for k, country in enumerate(rules.countries):
                ranges = blocks.ranges_of(country)
                if not ranges:
                    hint = difflib.get_close_matches(country, known, n=1)
                    extra = f" (did you mean {hint[0]!r}?)" if hint else ""
                    raise self.fail(f"{where}.countries[{k}]", f"no ICAO address block for {country!r}{extra}")
                countries.extend((lo, hi, i) for lo, hi in ranges)
            for k, text in enumerate(rules.hex_ranges):
                try:
                    lo, hi = parse_hex_range(text)
                except ValueError as exc:
                    raise self.fail(f"{where}.hex_ranges[{k}]", str(exc)) from None
                hexes.append((lo, hi, i))
            for k, text in enumerate(rules.icao24):
                if not re.fullmatch(r"[0-9A-Fa-f]{6}", text.strip()):
                    raise self.fail(f"{where}.icao24[{k}]", f"{text!r} is not a 6-digit hex address")
                explicit.append((int(text, 16), int(text, 16), i))
            for k, text in enumerate(rules.callsigns):
                try:
                    patterns.append((re.compile(text), i))
                except re.error as exc:
                    raise self.fail(f"{where}.callsigns[{k}]", f"not a valid regular expression: {exc}") from None
        tables = {}
        for name, ranges in (("icao24", explicit), ("hex_ranges", hexes), ("countries", countries)):
            table = RangeTable.build(ranges)
            for a, b in table.overlaps():
                if table.label[a] != table.label[b]:
                    pa, pb = parties[table.label[a]].id, parties[table.label[b]].id
                    raise self.fail(f"parties[{table.label[b]}].identify.{name}",
                                    f"parties {pa!r} and {pb!r} both claim addresses {table.start[b]:06X}-"
                                    f"{min(table.end[a], table.end[b]):06X}")
            tables[name] = table
        return PartyIdentifier(tuple(p.id for p in parties), tables["icao24"], tables["hex_ranges"],
                               tuple(patterns), tables["countries"])
