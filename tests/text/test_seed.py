"""The commune's real 2023 plan normalizes completely: nothing left a speech engine would misread."""

import re
from pathlib import Path

import pytest

from broadcaster.text import abbreviations as ab

SEED = Path(__file__).resolve().parents[2].parent / "shared/seed/000_3c48e4e992f1d6b8.txt"
KNOWN = {k for table in (ab.ACRONYMS, ab.SYMBOL_PARTS, ab.WORDS) for k in table
         if any(c.isupper() for c in k) and len(k) > 1}


@pytest.fixture(scope="module")
def seed_text() -> str:
    if not SEED.is_file():
        pytest.fail(f"seed plan not found at {SEED}: check out shared/ beside the repository")
    return SEED.read_text(encoding="utf-8")


def test_seed_normalizes_with_no_digit_slash_or_known_abbreviation(normalizer, seed_text):
    out = normalizer.normalize(seed_text)
    assert len(out.split("\n")) == len(seed_text.split("\n"))
    assert not re.search(r"\d", out)
    assert "/" not in out and "*" not in out
    left = sorted({w for w in re.findall(r"[\w&]+", out) if w in KNOWN})
    assert left == []


def test_seed_keeps_its_sentences(normalizer, seed_text):
    out = normalizer.normalize(seed_text)
    assert out.count(";") >= seed_text.count(";") - 1
    assert "Phần bốn. TỔ CHỨC THỰC HIỆN" in out
    assert "thường trực Đảng ủy, hội đồng nhân dân xã;" in out
    assert "chủ tịch, các phó chủ tịch ủy ban nhân dân xã;" in out


def test_seed_check_reports_nothing(normalizer, seed_text):
    assert normalizer.check(seed_text) == []
