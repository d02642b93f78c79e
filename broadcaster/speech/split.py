"""Cut normalized text into the pieces a reader breathes between, each with the pause after it.

In: speakable text from `broadcaster.text` (lines kept, sentence punctuation kept). Out: a list of
`Piece`s the speaker synthesizes (and caches) one by one and joins with silences. Engines pause
poorly on their own (eSpeak NG barely at all), and pieces keep each cached render small, so an
edited bulletin re-renders only the sentences that changed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SENTENCE_PAUSE = 0.5    # seconds after . ! ?
CLAUSE_PAUSE = 0.25     # after , ; :
PARAGRAPH_PAUSE = 0.9   # after a heading or paragraph (line break or blank line)
BREATH_PAUSE = 0.1      # inside an overlong clause cut at a space
MAX_PIECE_CHARS = 200

# A boundary is punctuation followed by whitespace or the end, so "3.5" or "1,2" stay whole.
_BOUNDARY = re.compile(r"([.!?…]+|[,;:])(?=\s|$)")
_SPEAKABLE = re.compile(r"\w")


@dataclass(frozen=True)
class Piece:
    text: str
    pause_after: float


def split_text(text: str, max_chars: int = MAX_PIECE_CHARS) -> list[Piece]:
    """Pieces of `text` in reading order; the last piece has no pause after it.

    Punctuation stays on its piece so engines still intonate questions and sentence ends.
    Fragments with nothing to say (a lone dash, an ellipsis) give their pause to the piece before.
    """
    pieces: list[Piece] = []

    def add_pause(pause: float) -> None:
        if pieces and pieces[-1].pause_after < pause:
            pieces[-1] = Piece(pieces[-1].text, pause)

    for line in text.splitlines():
        line = " ".join(line.split())
        for fragment, pause in _split_line(line):
            if _SPEAKABLE.search(fragment):
                for i, chunk in enumerate(chunks := _cut_at_spaces(fragment, max_chars)):
                    pieces.append(Piece(chunk, pause if i == len(chunks) - 1 else BREATH_PAUSE))
            else:
                add_pause(pause)
        add_pause(PARAGRAPH_PAUSE)
    if pieces:
        pieces[-1] = Piece(pieces[-1].text, 0.0)
    return pieces


def _split_line(line: str) -> list[tuple[str, float]]:
    parts: list[tuple[str, float]] = []
    start = 0
    for match in _BOUNDARY.finditer(line):
        pause = CLAUSE_PAUSE if match.group(1) in ",;:" else SENTENCE_PAUSE
        parts.append((line[start:match.end()].strip(), pause))
        start = match.end()
    rest = line[start:].strip()
    if rest:
        parts.append((rest, PARAGRAPH_PAUSE))
    return parts


def _cut_at_spaces(text: str, max_chars: int) -> list[str]:
    """Greedy cut into chunks of at most `max_chars` at spaces (a longer word stays whole)."""
    if len(text) <= max_chars:
        return [text]
    chunks: list[str] = []
    current = ""
    for word in text.split(" "):
        if current and len(current) + 1 + len(word) > max_chars:
            chunks.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    if current:
        chunks.append(current)
    return chunks
