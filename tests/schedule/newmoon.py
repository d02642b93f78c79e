"""An independent source of Vietnamese lunar month starts for tests: true new moons (Meeus).

Jean Meeus, Astronomical Algorithms (2nd ed.), chapter 49: the mean new moon plus the periodic
and planetary terms, accurate to well under a minute for these years. A lunar month of Vietnam's
calendar starts on the day (at UTC+7) that holds the new moon. This shares no code or method
with `lunar-vn` (Hồ Ngọc Đức's lower-precision series), so agreement means something.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta, timezone

DELTA_T = 69.2          # seconds, TT - UT in the 2020s (IERS)
J2000_NEW_MOON = 2451550.09766
SYNODIC = 29.530588861

_TERMS = [  # (coefficient, E power, multiples of M, M', F, Omega)
    (-0.40720, 0, 0, 1, 0, 0), (0.17241, 1, 1, 0, 0, 0), (0.01608, 0, 0, 2, 0, 0),
    (0.01039, 0, 0, 0, 2, 0), (0.00739, 1, -1, 1, 0, 0), (-0.00514, 1, 1, 1, 0, 0),
    (0.00208, 2, 2, 0, 0, 0), (-0.00111, 0, 0, 1, -2, 0), (-0.00057, 0, 0, 1, 2, 0),
    (0.00056, 1, 1, 2, 0, 0), (-0.00042, 0, 0, 3, 0, 0), (0.00042, 1, 1, 0, 2, 0),
    (0.00038, 1, 1, 0, -2, 0), (-0.00024, 1, -1, 2, 0, 0), (-0.00017, 0, 0, 0, 0, 1),
    (-0.00007, 0, 2, 1, 0, 0), (0.00004, 0, 0, 2, -2, 0), (0.00004, 0, 3, 0, 0, 0),
    (0.00003, 0, 1, 1, -2, 0), (0.00003, 0, 0, 2, 2, 0), (-0.00003, 0, 1, 1, 2, 0),
    (0.00003, 0, -1, 1, 2, 0), (-0.00002, 0, -1, 1, -2, 0), (-0.00002, 0, 1, 3, 0, 0),
    (0.00002, 0, 0, 4, 0, 0),
]
_PLANETARY = [  # (coefficient, A0, A per k)
    (0.000325, 299.77, 0.107408), (0.000165, 251.88, 0.016321), (0.000164, 251.83, 26.651886),
    (0.000126, 349.42, 36.412478), (0.000110, 84.66, 18.206239), (0.000062, 141.74, 53.303771),
    (0.000060, 207.14, 2.453732), (0.000056, 154.84, 7.306860), (0.000047, 34.52, 27.261239),
    (0.000042, 207.19, 0.121824), (0.000040, 291.34, 1.844379), (0.000037, 161.72, 24.198154),
    (0.000035, 239.56, 25.513099), (0.000023, 331.55, 3.592518),
]


def new_moon_jde(k: int) -> float:
    t = k / 1236.85
    jde = J2000_NEW_MOON + SYNODIC * k + 0.00015437 * t**2 - 0.000000150 * t**3 + 0.00000000073 * t**4
    e = 1 - 0.002516 * t - 0.0000074 * t**2
    m = math.radians(2.5534 + 29.10535670 * k - 0.0000014 * t**2 - 0.00000011 * t**3)
    mp = math.radians(201.5643 + 385.81693528 * k + 0.0107582 * t**2 + 0.00001238 * t**3
                      - 0.000000058 * t**4)
    f = math.radians(160.7108 + 390.67050284 * k - 0.0016118 * t**2 - 0.00000227 * t**3
                     + 0.000000011 * t**4)
    omega = math.radians(124.7746 - 1.56375588 * k + 0.0020672 * t**2 + 0.00000215 * t**3)
    for coefficient, e_power, a, b, c, d in _TERMS:
        jde += coefficient * e**e_power * math.sin(a * m + b * mp + c * f + d * omega)
    for coefficient, a0, per_k in _PLANETARY:
        extra = -0.009173 * t**2 if a0 == 299.77 else 0.0
        jde += coefficient * math.sin(math.radians(a0 + per_k * k + extra))
    return jde


def new_moons_utc7(first: date, last: date) -> list[datetime]:
    """Every new moon with its local date in [first, last], as a UTC+7 datetime."""
    zone = timezone(timedelta(hours=7))
    k = math.floor((first.year + (first.timetuple().tm_yday - 1) / 365.25 - 2000) * 12.3685) - 1
    found = []
    while True:
        jd_ut = new_moon_jde(k) - DELTA_T / 86400
        moment = datetime(2000, 1, 1, 12, tzinfo=timezone.utc) + timedelta(days=jd_ut - 2451545.0)
        local = moment.astimezone(zone)
        if local.date() > last:
            return found
        if local.date() >= first:
            found.append(local)
        k += 1
