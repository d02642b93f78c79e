"""The number reader against Northern reading conventions."""

import pytest

from broadcaster.text.numbers import (
    read_day, read_decimal, read_digits, read_month, read_number, read_ordinal, roman_value, to_roman,
)

CARDINALS = [
    (0, "không"), (5, "năm"), (10, "mười"), (11, "mười một"), (14, "mười bốn"), (15, "mười lăm"),
    (20, "hai mươi"), (21, "hai mươi mốt"), (24, "hai mươi tư"), (25, "hai mươi lăm"),
    (55, "năm mươi lăm"), (101, "một trăm linh một"), (105, "một trăm linh năm"),
    (110, "một trăm mười"), (115, "một trăm mười lăm"), (125, "một trăm hai mươi lăm"),
    (1004, "một nghìn không trăm linh bốn"), (2006, "hai nghìn không trăm linh sáu"),
    (2015, "hai nghìn không trăm mười lăm"), (2023, "hai nghìn không trăm hai mươi ba"),
    (9001, "chín nghìn không trăm linh một"), (12345, "mười hai nghìn ba trăm bốn mươi lăm"),
    (500000, "năm trăm nghìn"), (1250000, "một triệu hai trăm năm mươi nghìn"),
    (1005000, "một triệu không trăm linh năm nghìn"), (1000500, "một triệu năm trăm"),
    (2500000000, "hai tỷ năm trăm triệu"), (3 * 10**12, "ba nghìn tỷ"), (-2, "âm hai"),
]


@pytest.mark.parametrize("n, words", CARDINALS, ids=[str(n) for n, _ in CARDINALS])
def test_read_number(n, words):
    assert read_number(n) == words


@pytest.mark.parametrize("integer, fraction, words", [
    ("17", "5", "mười bảy phẩy năm"),
    ("98", "75", "chín mươi tám phẩy bảy mươi lăm"),
    ("3", "05", "ba phẩy không năm"),
    ("3", "141", "ba phẩy một bốn một"),
    ("0", "5", "không phẩy năm"),
])
def test_read_decimal(integer, fraction, words):
    assert read_decimal(integer, fraction) == words


def test_read_digits_reads_each_digit_and_skips_separators():
    assert read_digits("0912") == "không chín một hai"
    assert read_digits("0225.3881") == "không hai hai năm ba tám tám một"


@pytest.mark.parametrize("reader, n, words", [
    (read_ordinal, 1, "nhất"), (read_ordinal, 4, "tư"), (read_ordinal, 2, "hai"),
    (read_ordinal, 14, "mười bốn"), (read_month, 4, "tư"), (read_month, 1, "một"),
    (read_month, 12, "mười hai"), (read_day, 5, "mồng năm"), (read_day, 10, "mồng mười"),
    (read_day, 11, "mười một"),
])
def test_ordinal_month_day(reader, n, words):
    assert reader(n) == words


@pytest.mark.parametrize("text, value", [
    ("I", 1), ("II", 2), ("IV", 4), ("IX", 9), ("XXI", 21), ("XXV", 25), ("XIII", 13),
    ("IIII", None), ("VX", None), ("ABC", None), ("", None),
])
def test_roman_value(text, value):
    assert roman_value(text) == value


def test_roman_round_trip():
    assert all(roman_value(to_roman(n)) == n for n in range(1, 400))
