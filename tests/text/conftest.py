"""Shared helpers for the text normalizer tests."""

import re

import pytest

from broadcaster.text import Normalizer


def spoken_words(text: str) -> str:
    """How the test set compares readings: lowercase, punctuation dropped, single spaces."""
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


@pytest.fixture(scope="session")
def normalizer() -> Normalizer:
    return Normalizer()
