"""Written bulletin Vietnamese -> the words a Northern announcer would say.

First stage after the schedule: the programme/speech stages pass each bulletin's text through
`Normalizer.normalize` before handing it to a speech engine, and `broadcaster normalize --check`
shows an operator what the normalizer could not read confidently. In: text (any number of
lines). Out: the same number of lines, with numbers, dates, symbols and abbreviations spelled
out and sentence punctuation kept so the engine pauses there.
"""

from __future__ import annotations

import unicodedata

import logging
import re
from collections.abc import Mapping

from broadcaster import i18n
from broadcaster.text.rules import Finding, RawFinding, Rules

log = logging.getLogger(__name__)

_TIDY = [
    (re.compile(r"\s+"), " "),
    (re.compile(r"\s+([.,;:!?])"), r"\1"),
    (re.compile(r"([,;:])(?:\s*[,;:])+"), r"\1"),      # ", ," left by brackets and bullets
    (re.compile(r"[,;:]\s*([.!?])"), r"\1"),
    (re.compile(r"([,;:])(?=[^\W\d_])"), r"\1 "),
    (re.compile(r"^[\s,;:.!?]+(?!\.\.)"), ""),
]


def _tidy(line: str) -> str:
    for pattern, replacement in _TIDY:
        line = pattern.sub(replacement, line)
    return line.strip()


class Normalizer:
    """Rewrites bulletin text for speech, with the station's own readings winning over defaults."""

    def __init__(self, overrides: Mapping[str, str] | None = None) -> None:
        self._rules = Rules(overrides)

    def normalize(self, text: str) -> str:
        """The spoken form of `text`, one output line per input line."""
        return "\n".join(_tidy(self._rules.apply(line.rstrip("\r"))) for line in _composed(text).split("\n"))

    def check(self, text: str) -> list[Finding]:
        """Everything in `text` the normalizer could not read confidently, in reading order."""
        findings: list[Finding] = []
        for number, line in enumerate(_composed(text).split("\n"), start=1):
            raw: list[RawFinding] = []
            self._rules.apply(line.rstrip("\r"), raw)
            for column, token, key, params in sorted(raw, key=lambda f: f[0]):
                findings.append(Finding(number, column + 1, token, i18n.tr(key, **params)))
        log.debug("check found %s items in %s lines", len(findings), text.count("\n") + 1)
        return findings


def _composed(text: str) -> str:
    """NFC, without byte-order marks: text pasted from Word or macOS may carry decomposed
    diacritics (every mark would otherwise be an odd symbol) and a BOM."""
    return unicodedata.normalize("NFC", text).replace("\ufeff", "")
