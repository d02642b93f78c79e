"""The shared test set of 68 administrative phrases: every case, and the accuracy bar.

The set lives outside the repository (CI checks out shared/ beside the clone) and must never
feed the normalizer's tables: it measures general rules against new text.
"""

from pathlib import Path

import pytest
import yaml

from tests.text.conftest import spoken_words

CASES_PATH = Path(__file__).resolve().parents[2].parent / "shared/testdata/normalize-cases.yaml"
REQUIRED_ACCURACY = 0.95


def _load_cases() -> list[dict]:
    if not CASES_PATH.is_file():
        return []
    return yaml.safe_load(CASES_PATH.read_text(encoding="utf-8"))


CASES = _load_cases()


def _missing() -> None:
    pytest.fail(f"normalizer test set not found at {CASES_PATH}: check out shared/ beside the repository")


@pytest.mark.parametrize("case", CASES or [None], ids=[c["id"] for c in CASES] or ["missing-test-set"])
def test_case(case, normalizer):
    if case is None:
        _missing()
    spoken = spoken_words(normalizer.normalize(case["input"]))
    assert spoken in case["expected"], f"{case['input']!r} read as {spoken!r}"


def test_accuracy_at_least_95_percent(normalizer):
    if not CASES:
        _missing()
    assert len(CASES) >= 60, "the test set looks truncated"
    failures = [c["id"] for c in CASES
                if spoken_words(normalizer.normalize(c["input"])) not in c["expected"]]
    accuracy = 1 - len(failures) / len(CASES)
    assert accuracy >= REQUIRED_ACCURACY, f"exact match {accuracy:.1%} < 95%; failing: {failures}"


def test_one_output_line_per_case_input(normalizer):
    if not CASES:
        _missing()
    text = "\n".join(c["input"] for c in CASES)
    assert len(normalizer.normalize(text).split("\n")) == len(CASES)
