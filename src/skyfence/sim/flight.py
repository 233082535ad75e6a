"""Flight dynamics: an aircraft flown through a list of legs within its performance limits.

A point-mass model in the local plane of the agreement, stepped once a
second. Heading changes through bank: the bank follows its command at the
type's roll rate, and the turn rate is ``g tan(bank) / v``, so turns are smooth
and never tighter than the load factor allows. Speed changes within the
type's acceleration (and, with speed brakes, its deceleration); vertical
speed follows its command within a vertical acceleration limit.

Legs (one row each, ``kind`` first, then parameters; see ``Leg``) steer the
aircraft: fly to a point, orbit, fly a racetrack, hold a heading, turn hard,
brake, weave, pursue another aircraft, dive or climb.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba as nb
import numpy as np

from skyfence.sim.aircraft import AircraftType

G = 9.80665
N_PARAMS = 12
GOTO, ORBIT, RACETRACK, HEADING, TURN, SPEEDBRAKE, WEAVE, PURSUE, DIVE = range(9)
LEG_NAMES = ("goto", "orbit", "racetrack", "heading", "turn", "speedbrake", "weave", "pursue", "dive")
# columns of a flown trajectory (FLAGS: 1 while the speed brakes are out)
T, X, Y, H, V, PSI, VZ, BANK, LEG, FLAGS = range(10)
N_COLUMNS = 10


class Leg:
    """Builders for leg rows: ``Leg.goto(x, y, h, v)`` and so on. Angles in radians, SI units."""

    @staticmethod
    def _row(kind: int, *params: float) -> np.ndarray:
        row = np.full(N_PARAMS, np.nan)
        row[0] = kind
        row[1:1 + len(params)] = params
        return row

    @staticmethod
    def goto(x, y, h, v, n=0.0, capture=2000.0):
        return Leg._row(GOTO, x, y, h, v, n, capture)

    @staticmethod
    def orbit(cx, cy, h, v, radius, duration, direction=1.0):
        return Leg._row(ORBIT, cx, cy, h, v, radius, duration, direction)

    @staticmethod
    def racetrack(x1, y1, x2, y2, h, v, duration):
        return Leg._row(RACETRACK, x1, y1, x2, y2, h, v, duration)

    @staticmethod
    def heading(psi, h, v, duration, n=0.0):
        return Leg._row(HEADING, psi, h, v, duration, n)

    @staticmethod
    def turn(delta, n, v=0.0, h=np.nan):
        return Leg._row(TURN, delta, n, v, h)

    @staticmethod
    def speedbrake(v_target):
        return Leg._row(SPEEDBRAKE, v_target)

    @staticmethod
    def weave(base_psi, amplitude, period, duration, n, v):
        return Leg._row(WEAVE, base_psi, amplitude, period, duration, n, v)

    @staticmethod
    def pursue(offset, duration, n, v_max, brakes=1.0):
        return Leg._row(PURSUE, offset, duration, n, v_max, brakes)

    @staticmethod
    def dive(h_target, rate, duration, toward_x=np.nan, toward_y=np.nan):
        """Change altitude fast (``rate`` m/s); steer toward a point if one is given, else hold heading."""
        return Leg._row(DIVE, h_target, rate, duration, toward_x, toward_y)


@dataclass(frozen=True)
class Start:
    """Where and when a flight starts (airborne)."""

    t: float
    x: float
    y: float
    h: float
    v: float
    psi: float


def performance(ac: AircraftType) -> np.ndarray:
    """The type's limits as the kernel reads them."""
    v_accel = 0.35 * G if ac.fast_mover else 0.08 * G
    return np.array([ac.min_speed, ac.max_speed, ac.max_g, 1.0 / np.cos(np.radians(ac.bank)),
                     np.radians(ac.roll_rate), ac.climb, ac.descent, ac.accel, ac.decel, v_accel, ac.ceiling])


def fly(legs: np.ndarray, ac: AircraftType, start: Start, dt: float = 1.0, max_seconds: float = 8 * 3600,
        target: np.ndarray | None = None) -> np.ndarray:
    """The trajectory (one row per step: t, x, y, h, v, psi, vz, bank, leg, flags) of a flight through ``legs``.

    ``target`` is another flight's trajectory, for pursuit legs.
    """
    tgt = np.zeros((0, N_COLUMNS)) if target is None else np.ascontiguousarray(target)
    return _fly(np.ascontiguousarray(np.atleast_2d(legs)), performance(ac), start.t, start.x, start.y, start.h,
                start.v, start.psi, dt, int(max_seconds / dt), tgt)


@nb.njit(cache=True, inline="always")
def _wrap(a):
    return (a + np.pi) % (2 * np.pi) - np.pi


@nb.njit(cache=True)
def _target_at(tgt, t):
    """Linear interpolation of a trajectory at time t (NaNs outside it)."""
    n = tgt.shape[0]
    out = np.full(N_COLUMNS, np.nan)
    if n == 0 or t < tgt[0, 0] or t > tgt[n - 1, 0]:
        return out
    dt = tgt[1, 0] - tgt[0, 0] if n > 1 else 1.0
    k = min(int((t - tgt[0, 0]) / dt), n - 2) if n > 1 else 0
    f = (t - tgt[k, 0]) / dt if n > 1 else 0.0
    for c in range(N_COLUMNS):
        out[c] = tgt[k, c] + f * (tgt[min(k + 1, n - 1), c] - tgt[k, c])
    out[PSI] = tgt[k, PSI] + f * _wrap(tgt[min(k + 1, n - 1), PSI] - tgt[k, PSI])
    return out


@nb.njit(cache=True)
def _fly(legs, perf, t0, x, y, h, v, psi, dt, max_steps, tgt):
    v_min, v_max, n_routine, roll_rate = perf[0], perf[1], perf[3], perf[4]  # perf[2]: g limit, in the legs
    climb, descent, accel, decel, v_accel, ceiling = perf[5], perf[6], perf[7], perf[8], perf[9], perf[10]
    out = np.empty((max_steps, N_COLUMNS))
    vz, bank = 0.0, 0.0
    braking = False  # pursuit brakes: out when 35 m/s too fast, in again once slowed to the speed wanted
    leg, leg_start, turned, rt_end = 0, t0, 0.0, 1
    n_legs = legs.shape[0]
    t = t0
    out[0, 0], out[0, 1], out[0, 2], out[0, 3], out[0, 4] = t, x, y, h, v
    out[0, 5], out[0, 6], out[0, 7], out[0, 8], out[0, 9] = psi, 0.0, 0.0, 0, 0.0
    k = 1
    while k < max_steps and leg < n_legs:
        p = legs[leg]
        kind = int(p[0])
        elapsed = t - leg_start
        psi_d, v_d, h_d, n_cmd = psi, v, h, n_routine
        rate_limit = -1.0
        brakes = False
        done = False
        turn_dir = 0.0
        if kind == GOTO:
            dx, dy = p[1] - x, p[2] - y
            psi_d = np.arctan2(dx, dy)
            v_d, h_d = p[4], p[3]
            if p[5] > 0:
                n_cmd = p[5]
            done = np.hypot(dx, dy) < p[6]
        elif kind == ORBIT:
            rx, ry = x - p[1], y - p[2]
            r = np.hypot(rx, ry)
            bearing = np.arctan2(rx, ry)  # from the centre to the aircraft
            # tangent heading, corrected toward the circle
            psi_d = bearing + p[7] * (np.pi / 2 + min(max((r - p[5]) / p[5], -1.0), 1.0) * np.pi / 3)
            v_d, h_d = p[4], p[3]
            done = elapsed >= p[6]
        elif kind == RACETRACK:
            ex, ey = (p[3], p[4]) if rt_end == 1 else (p[1], p[2])
            dx, dy = ex - x, ey - y
            if np.hypot(dx, dy) < 3000.0:
                rt_end = 1 - rt_end
            psi_d = np.arctan2(dx, dy)
            v_d, h_d = p[6], p[5]
            done = elapsed >= p[7]
        elif kind == HEADING:
            psi_d, h_d, v_d = p[1], p[2], p[3]
            if p[5] > 0:
                n_cmd = p[5]
            done = elapsed >= p[4]
        elif kind == TURN:
            n_cmd = p[2]
            if p[3] > 0:
                v_d = p[3]
            if not np.isnan(p[4]):
                h_d = p[4]
            remaining = abs(p[1]) - turned
            turn_dir = np.sign(p[1])
            psi_d = psi + turn_dir * min(remaining, np.pi / 2)
            done = remaining <= np.radians(2.0)
        elif kind == SPEEDBRAKE:
            v_d = p[1]
            brakes = True
            done = v <= p[1] + 1.0 or elapsed > 120.0
        elif kind == WEAVE:
            psi_d = p[1] + p[2] * np.sin(2 * np.pi * elapsed / p[3])
            n_cmd, v_d = p[5], p[6]
            done = elapsed >= p[4]
        elif kind == PURSUE:
            n_cmd = p[3]
            ts = _target_at(tgt, t)
            if np.isnan(ts[X]) or elapsed >= p[2]:
                done = True
            else:
                rng = np.hypot(ts[X] - x, ts[Y] - y)
                lead = min(rng / 150.0, 20.0)
                tf = _target_at(tgt, t + lead)
                if np.isnan(tf[X]):
                    tf = ts
                ax = tf[X] - p[1] * np.sin(tf[PSI])
                ay = tf[Y] - p[1] * np.cos(tf[PSI])
                psi_d = np.arctan2(ax - x, ay - y)
                aim = np.hypot(ax - x, ay - y)
                # close fast when far, then hold station at the offset behind the target
                v_d = min(p[4], ts[V] + min(aim / 15.0, 150.0)) if aim > 300.0 else ts[V]
                braking = p[5] > 0 and (v - v_d > 35.0 or (braking and v - v_d > 0.0))
                brakes = braking
                h_d = ts[H]
        elif kind == DIVE:
            h_d = p[1]
            rate_limit = abs(p[2])
            if not np.isnan(p[4]):
                psi_d = np.arctan2(p[4] - x, p[5] - y)
            done = abs(h - h_d) < 30.0 or elapsed >= p[3]
        if done:
            braking = False
            leg += 1
            leg_start = t
            turned = 0.0
            continue
        # lateral: bank toward the turn the heading error asks for
        v_safe = max(v, 1.0)
        omega_max = G * np.sqrt(max(n_cmd * n_cmd - 1.0, 0.0)) / v_safe
        err = _wrap(psi_d - psi)
        if turn_dir != 0.0:
            omega_cmd = turn_dir * omega_max
        else:
            omega_cmd = min(max(0.6 * err, -omega_max), omega_max)
        bank_cmd = np.arctan(omega_cmd * v_safe / G)
        bank += min(max(bank_cmd - bank, -roll_rate * dt), roll_rate * dt)
        omega = G * np.tan(bank) / v_safe
        psi = _wrap(psi + omega * dt)
        turned += abs(omega * dt)
        # longitudinal
        v_d = min(max(v_d, v_min), v_max)
        dec = decel if brakes else 0.3 * decel
        v += min(max(v_d - v, -dec * dt), accel * dt)
        # vertical: routine climbs at a fraction of the type's best rate; dives at the leg's rate; level off
        # without overshoot (never faster than the vertical acceleration can stop in the height left)
        up = min(climb, 0.12 * v) if rate_limit < 0 else rate_limit
        down = min(descent, 0.12 * v) if rate_limit < 0 else rate_limit
        dh = min(h_d, ceiling) - h
        stop = np.sqrt(2.0 * 0.7 * v_accel * abs(dh))
        vz_cmd = np.sign(dh) * min(abs(dh) * 0.1, stop, up if dh > 0 else down)
        vz += min(max(vz_cmd - vz, -v_accel * dt), v_accel * dt)
        # position
        x += v * np.sin(psi) * dt
        y += v * np.cos(psi) * dt
        h += vz * dt
        t += dt
        out[k, 0], out[k, 1], out[k, 2], out[k, 3], out[k, 4] = t, x, y, h, v
        out[k, 5], out[k, 6], out[k, 7], out[k, 8] = psi, vz, bank, leg
        out[k, 9] = 1.0 if (brakes and v_d < v) else 0.0
        k += 1
    return out[:k]
