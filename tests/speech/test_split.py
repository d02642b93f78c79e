"""Pieces and pauses fall where a reader would breathe."""

from __future__ import annotations

import pytest

from broadcaster.speech.split import (BREATH_PAUSE, CLAUSE_PAUSE, PARAGRAPH_PAUSE, SENTENCE_PAUSE,
                                      Piece, split_text)

CASES = [
    ("one sentence", "Xin chào bà con.", [Piece("Xin chào bà con.", 0.0)]),
    ("sentence and clause", "Xin chào bà con, hôm nay trời đẹp. Mời đi họp!",
     [Piece("Xin chào bà con,", CLAUSE_PAUSE), Piece("hôm nay trời đẹp.", SENTENCE_PAUSE),
      Piece("Mời đi họp!", 0.0)]),
    ("semicolon and colon", "Cần mang: giấy tờ; sổ hộ khẩu",
     [Piece("Cần mang:", CLAUSE_PAUSE), Piece("giấy tờ;", CLAUSE_PAUSE), Piece("sổ hộ khẩu", 0.0)]),
    ("heading and paragraph", "THÔNG BÁO\n\nVề việc tiêm phòng.\nBà con chú ý.",
     [Piece("THÔNG BÁO", PARAGRAPH_PAUSE), Piece("Về việc tiêm phòng.", PARAGRAPH_PAUSE),
      Piece("Bà con chú ý.", 0.0)]),
    ("decimal point is not a boundary", "Giá 3.5 triệu, tăng 1,2 lần.",
     [Piece("Giá 3.5 triệu,", CLAUSE_PAUSE), Piece("tăng 1,2 lần.", 0.0)]),
    ("question and ellipsis", "Ai chưa đi? Còn nữa... Hết",
     [Piece("Ai chưa đi?", SENTENCE_PAUSE), Piece("Còn nữa...", SENTENCE_PAUSE), Piece("Hết", 0.0)]),
    ("unspeakable fragments give their pause away", "Một.\n- \n...\nHai",
     [Piece("Một.", PARAGRAPH_PAUSE), Piece("Hai", 0.0)]),
    ("spaces are tidied", "  Xin   chào  ,  bà con  ",
     [Piece("Xin chào ,", CLAUSE_PAUSE), Piece("bà con", 0.0)]),
    ("empty", " \n\n ", []),
]


@pytest.mark.parametrize("text, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_split(text, expected):
    assert split_text(text) == expected


def test_long_clause_is_cut_at_spaces():
    words = ["tiếng"] * 100
    pieces = split_text(" ".join(words) + ".", max_chars=50)
    assert all(len(p.text) <= 50 for p in pieces)
    assert " ".join(p.text for p in pieces) == " ".join(words) + "."
    assert [p.pause_after for p in pieces[:-1]] == [BREATH_PAUSE] * (len(pieces) - 1)
    assert pieces[-1].pause_after == 0.0


def test_a_word_longer_than_the_limit_stays_whole():
    assert split_text("a" * 30, max_chars=10) == [Piece("a" * 30, 0.0)]
