"""The scenario file (YAML): who flies what, from where, how often; what is injected; how it is seen.

The built-in ``euphrates-2017`` scenario is such a file
(``skyfence/scenarios/euphrates-2017.yaml``); a user's own file has the same
fields. Quantities carry units as in agreements.
"""

from __future__ import annotations

from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from skyfence.errors import SkyfenceError

from skyfence.scenarios import BUILTIN  # noqa: E402  (re-exported)
MISSIONS = ("cap", "strike", "cas", "tanker", "isr", "awacs")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Identity(_Strict):
    """Where identities come from: address blocks of States, or explicit hex ranges (preferred)."""

    countries: list[str] = []
    hex_ranges: list[str] = []


class Surveillance(_Strict):
    """How the traffic is seen: ADS-B-like update interval, noise, quantisation and losses."""

    interval: tuple[str | float, str | float] = ("2 s", "6 s")
    position_noise: str | float = "15 m"
    speed_noise: str | float = "2 kt"
    track_noise: float = 0.5
    altitude_step: str | float = "25 ft"
    vertical_rate_step: str | float = "64 ft/min"
    dropout: float = Field(0.02, ge=0, lt=1)
    gaps_per_hour: float = Field(0.5, ge=0)
    gap_length: tuple[str | float, str | float] = ("20 s", "90 s")


class Base(_Strict):
    """An airfield given by position (for theatres the bundled airport list does not cover)."""

    name: str
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    elevation: str | float = 0.0


class PartyForces(_Strict):
    identity: Identity
    bases: list[str | tuple[float, float] | Base] = Field(
        min_length=1, description="ICAO codes from the bundled airport list, [lon, lat], or {name, lon, lat}")


class Sorties(_Strict):
    party: str
    type: str
    mission: Literal["cap", "strike", "cas", "tanker", "isr", "awacs"]
    per_day: float = Field(gt=0)
    callsign: str = Field(pattern=r"^[A-Z]{2,7}$")


class Civil(_Strict):
    per_day: float = Field(0, ge=0)
    types: list[str] = ["A320", "B738", "B77W"]
    identity: Identity = Identity(countries=["Qatar", "Turkey", "Kuwait"])
    callsigns: list[str] = ["QTR", "THY", "KAC"]
    levels: tuple[str, str] = ("FL330", "FL390")


class Crossings(_Strict):
    party: str
    per_day: float = Field(7.0, ge=0)
    deliberate: float = Field(0.35, ge=0, le=1)
    inadvertent_depth: tuple[str | float, str | float] = ("2.5 km", "6 km")
    deliberate_depth: tuple[str | float, str | float] = ("10 km", "35 km")
    intercepted: float = Field(0.7, ge=0, le=1)
    near_collision: float = Field(0.15, ge=0, le=1)
    interceptor_party: str | None = None


class Manoeuvres(_Strict):
    hard_turns: float = Field(0.5, ge=0, description="hard turns per fighter sortie, on average")
    attack_dives: float = Field(2.0, ge=0, description="dives per close-air-support sortie, on average")


class Scenario(_Strict):
    name: str
    description: str | None = None
    agreement: str
    start: datetime
    surveillance: Surveillance = Surveillance()
    parties: dict[str, PartyForces]
    sorties: list[Sorties] = []
    civil: Civil = Civil()
    crossings: Crossings | None = None
    manoeuvres: Manoeuvres = Manoeuvres()

    @field_validator("start")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("give the time zone, e.g. 2017-11-01T00:00:00Z")
        return value


def builtin_scenario_path(name: str) -> Path:
    return Path(str(resources.files("skyfence.scenarios").joinpath(f"{name}.yaml")))


def load_scenario(ref: str | Path) -> tuple[Scenario, Path]:
    """A built-in scenario by name or a scenario file; the folder it is relative to."""
    text_ref = str(ref)
    path = builtin_scenario_path(text_ref) if text_ref in BUILTIN else Path(text_ref)
    if not path.is_file():
        raise SkyfenceError(f"{text_ref}: no such scenario file, and not a built-in scenario "
                            f"(built-in: {', '.join(BUILTIN)})")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise SkyfenceError(f"{text_ref}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    try:
        scenario = Scenario.model_validate(raw)
    except ValidationError as exc:
        e = exc.errors()[0]
        loc = ".".join(str(p) for p in e["loc"])
        raise SkyfenceError(f"{text_ref}: {loc}: {e['msg'].removeprefix('Value error, ')}") from None
    for i, s in enumerate(scenario.sorties):
        if s.party not in scenario.parties:
            raise SkyfenceError(f"{text_ref}: sorties.{i}.party: unknown party {s.party!r} "
                                f"(parties: {', '.join(scenario.parties)})")
    if scenario.crossings and scenario.crossings.party not in scenario.parties:
        raise SkyfenceError(f"{text_ref}: crossings.party: unknown party {scenario.crossings.party!r}")
    return scenario, path.parent
