"""Operator-facing messages in Vietnamese (default) and English.

Code and identifiers stay English; only what a person reads goes through `tr()`. Each stage
registers its own catalogue with `register()` so messages live next to the code that raises them.
The language comes from `--lang`, else `BROADCASTER_LANG`, else Vietnamese: a commune office
machine set to an English locale should still speak to its operator in Vietnamese.
"""

from __future__ import annotations

import os

LANGUAGES = ("vi", "en")
_catalogue: dict[str, dict[str, str]] = {}
_language: str | None = None


def register(messages: dict[str, tuple[str, str]]) -> None:
    """Add messages as `key: (vietnamese, english)`; templates use `str.format` fields."""
    for key, (vi, en) in messages.items():
        _catalogue[key] = {"vi": vi, "en": en}


def set_language(language: str | None) -> None:
    if language is not None and language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}; choose one of {LANGUAGES}")
    global _language
    _language = language


def language() -> str:
    if _language:
        return _language
    env = os.environ.get("BROADCASTER_LANG", "").strip().lower()[:2]
    return env if env in LANGUAGES else "vi"


def tr(key: str, /, **params: object) -> str:
    """The message `key` in the current language, filled with `params`."""
    entry = _catalogue.get(key)
    if entry is None:
        return key + (" " + repr(params) if params else "")
    return entry[language()].format(**params)
