"""Aircraft types: the performance limits the simulator flies them within (SI units).

Figures are round public numbers, good enough to make tracks look and move
like the real thing: cruise and limit speeds (true airspeed, flown as ground
speed: no wind), the load factor of a hard turn and the bank of a routine one,
climb and descent rates, acceleration and deceleration (with speed brakes),
roll rate, and the usual working altitude.
"""

from __future__ import annotations

from dataclasses import dataclass

from skyfence.units import FOOT, KNOT


@dataclass(frozen=True)
class AircraftType:
    name: str
    role: str  # fighter, attack, bomber, tanker, awacs, isr, trainer, airliner
    cruise: float  # m/s
    min_speed: float
    max_speed: float
    max_g: float  # sustained load factor in a hard turn
    bank: float  # degrees, routine turns
    roll_rate: float  # degrees per second
    climb: float  # m/s
    descent: float  # m/s
    accel: float  # m/s^2
    decel: float  # m/s^2, speed brakes out (throttle back alone gives 30 % of it)
    altitude: float  # m, usual working altitude
    ceiling: float  # m

    @property
    def fast_mover(self) -> bool:
        return self.role in ("fighter", "attack", "bomber", "trainer")


def _t(name, role, cruise_kt, min_kt, max_kt, g, bank, roll, climb_fpm, descent_fpm, accel, decel, alt_ft, ceil_ft):
    return AircraftType(name, role, cruise_kt * KNOT, min_kt * KNOT, max_kt * KNOT, g, bank, roll,
                        climb_fpm * FOOT / 60, descent_fpm * FOOT / 60, accel, decel, alt_ft * FOOT, ceil_ft * FOOT)


TYPES: dict[str, AircraftType] = {t.name: t for t in [
    _t("F-22", "fighter", 480, 200, 800, 7.5, 35, 180, 40000, 30000, 9.0, 7.0, 30000, 60000),
    _t("F-15E", "fighter", 470, 200, 750, 7.0, 35, 150, 35000, 30000, 8.0, 6.5, 25000, 50000),
    _t("F-16", "fighter", 460, 180, 750, 7.5, 35, 200, 35000, 30000, 8.0, 6.5, 24000, 50000),
    _t("A-10", "attack", 300, 140, 400, 5.0, 35, 90, 6000, 8000, 2.5, 4.0, 15000, 40000),
    _t("KC-135", "tanker", 450, 220, 500, 1.5, 25, 15, 2500, 3000, 1.0, 2.0, 26000, 45000),
    _t("E-3", "awacs", 420, 220, 470, 1.4, 25, 12, 2500, 3000, 1.0, 2.0, 29000, 40000),
    _t("MQ-9", "isr", 170, 90, 240, 2.0, 25, 20, 1500, 2000, 0.8, 1.2, 22000, 50000),
    _t("Su-25", "attack", 380, 160, 500, 6.5, 35, 120, 12000, 15000, 4.0, 5.0, 15000, 23000),
    _t("Su-24", "bomber", 450, 200, 700, 6.0, 35, 100, 20000, 20000, 6.0, 5.5, 20000, 36000),
    _t("Su-34", "fighter", 470, 200, 750, 7.0, 35, 120, 25000, 25000, 7.0, 6.0, 24000, 50000),
    _t("Su-35", "fighter", 480, 200, 800, 8.5, 35, 200, 40000, 30000, 9.0, 7.0, 30000, 59000),
    _t("MiG-29", "fighter", 460, 200, 750, 8.5, 35, 200, 40000, 30000, 9.0, 6.5, 24000, 57000),
    _t("L-39", "trainer", 330, 120, 400, 6.0, 35, 100, 4000, 6000, 3.0, 4.0, 12000, 36000),
    _t("A320", "airliner", 450, 200, 480, 1.3, 25, 8, 2000, 2500, 0.7, 2.0, 36000, 41000),
    _t("B738", "airliner", 455, 200, 490, 1.3, 25, 8, 2000, 2500, 0.7, 2.0, 37000, 41000),
    _t("B77W", "airliner", 480, 200, 510, 1.3, 25, 6, 1800, 2500, 0.6, 1.8, 35000, 43000),
]}


def aircraft_type(name: str) -> AircraftType:
    """The type by name, or a clear error listing the known ones."""
    try:
        return TYPES[name]
    except KeyError:
        raise KeyError(f"unknown aircraft type {name!r} (known: {', '.join(sorted(TYPES))})") from None
