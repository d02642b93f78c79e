"""The normalizer's cost grows in proportion to the text, whatever the text.

A pasted document must never stall `validate`, the desk's preview or the daemon's reload. Two
guards: no rule pattern contains an unbounded repetition (so one match attempt reads a bounded
number of characters wherever it starts), and on the shapes that made the old combined pattern
backtrack (minutes for 40,000 characters of `1-1-1-…`), ten times the text costs about ten times
the time: the ratio of CPU times, best of three, must stay under 30 (a quadratic cost gives 100).
"""

import random
import re
import time

import pytest

from broadcaster.text import Normalizer
from broadcaster.text import abbreviations as ab
from broadcaster.text import rules

# re._parser is the standard library's own regular-expression parser (private, stable since 3.11);
# walking its tree is the only way to see every quantifier of a compiled pattern.
from re import _constants as sre_constants, _parser as sre_parser  # noqa: E402


def _unbounded(tree) -> list[str]:
    found = []
    for op, arg in tree:
        if op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT, sre_constants.POSSESSIVE_REPEAT):
            low, high, sub = arg
            if high == sre_constants.MAXREPEAT:
                found.append(str(op))
            found += _unbounded(sub)
        elif op in (sre_constants.SUBPATTERN, sre_constants.ATOMIC_GROUP):
            found += _unbounded(arg[-1] if op == sre_constants.SUBPATTERN else arg)
        elif op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT):
            found += _unbounded(arg[1])
        elif op == sre_constants.BRANCH:
            for branch in arg[1]:
                found += _unbounded(branch)
        elif op == sre_constants.GROUPREF_EXISTS:
            found += _unbounded(arg[1]) + (_unbounded(arg[2]) if arg[2] else [])
    return found


@pytest.mark.parametrize("name, pattern", rules._PATTERNS, ids=[name for name, _ in rules._PATTERNS])
def test_every_rule_repeats_a_bounded_number_of_times(name, pattern):
    assert _unbounded(sre_parser.parse(pattern)) == []


def test_the_unbounded_walker_sees_a_star():
    assert _unbounded(sre_parser.parse(r"(?:a(?=b*))")) != []
    assert _unbounded(sre_parser.parse(r"(?P<x>a{1,3}(?:b|c{0,9}))")) == []


def test_units_start_where_the_number_rule_looks_for_them():
    # The number rule only tries its unit list when a letter, °, º or % follows the number.
    assert all(re.match(r"[^\W\d_]|[°º%]", unit) for unit in ab.UNITS)


def _cpu(normalizer: Normalizer, text: str) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.process_time()
        normalizer.normalize(text)
        best = min(best, time.process_time() - start)
    return best


def _mixture(size: int) -> str:
    rng = random.Random(11)
    pieces = ["1", "12", "2023", "0228", "-", "–", "/", ".", ",", " ", "UBND", "KH", "TT", "A", "1-",
              "1/", "1.", "và", "đến", "h", ":", "%", "°", "(", "&", "m²", "km/h", "ngày"]
    return "".join(rng.choice(pieces) for _ in range(size))[:size]


SHAPES = {
    "dashes": lambda n: ("1-" * n)[:n],
    "slash-dash": lambda n: ("1/1-" * n)[:n],
    "letter-dashes": lambda n: ("A-" * n)[:n],
    "and-lists": lambda n: ("1 và " * n)[:n],
    "ampersands": lambda n: ("a&" * n)[:n],
    "symbols": lambda n: ("/KH-" * n)[:n],
    "spaces": lambda n: "x" + " " * (n - 2) + "x",
    "mixture": _mixture,
}


@pytest.mark.parametrize("shape", SHAPES)
def test_ten_times_the_text_costs_about_ten_times(shape):
    normalizer = Normalizer()
    make = SHAPES[shape]
    small, large = make(3_000), make(30_000)
    normalizer.normalize(small)
    ratio = _cpu(normalizer, large) / max(_cpu(normalizer, small), 1e-4)
    assert ratio < 30, f"{shape}: 10x the text took {ratio:.0f}x the time"
