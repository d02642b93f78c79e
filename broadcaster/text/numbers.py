"""Number reader: integers, decimals and digit strings -> Northern Vietnamese words.

Sits under `broadcaster.text.rules`, which decides *how* a number is read (cardinal, digits,
ordinal, date part); this module only spells it. Northern conventions: "linh" for a zero tens
digit (105 "một trăm linh năm"), "không trăm" for an empty hundreds place inside a larger
number (2023 "hai nghìn không trăm hai mươi ba"), "mốt"/"tư"/"lăm" after "mươi", "nghìn".
"""

from __future__ import annotations

from functools import lru_cache

DIGITS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")
_SCALES = ("", "nghìn", "triệu", "tỷ")


def _read_below_thousand(n: int, full: bool) -> list[str]:
    """Words for 0 < n < 1000; `full` means a higher group precedes, so 5 reads "không trăm linh năm"."""
    hundreds, rest = divmod(n, 100)
    tens, units = divmod(rest, 10)
    words: list[str] = []
    if hundreds or full:
        words += [DIGITS[hundreds], "trăm"]
    if tens == 0:
        if units:
            if words:
                words.append("linh")
            words.append(DIGITS[units])
        return words
    if tens == 1:
        words.append("mười")
    else:
        words += [DIGITS[tens], "mươi"]
    if units == 1:
        words.append("mốt" if tens > 1 else "một")
    elif units == 4:
        words.append("tư" if tens > 1 else "bốn")
    elif units == 5:
        words.append("lăm")
    elif units:
        words.append(DIGITS[units])
    return words


@lru_cache(maxsize=4096)       # bulletins repeat the same few numbers: years, dates, amounts
def read_number(n: int) -> str:
    """Read a whole number as a Northern announcer would: 2023 -> "hai nghìn không trăm hai mươi ba"."""
    if n < 0:
        return "âm " + read_number(-n)
    if n == 0:
        return "không"
    if n >= 10**12:
        # Above a thousand billion Vietnamese stacks the scales: "nghìn tỷ", "triệu tỷ".
        high, low = divmod(n, 10**9)
        words = read_number(high) + " tỷ"
        return words + (" " + _read_groups(low, full=True) if low else "")
    return _read_groups(n, full=False)


def _read_groups(n: int, full: bool) -> str:
    groups: list[int] = []
    while n:
        n, group = divmod(n, 1000)
        groups.append(group)
    words: list[str] = []
    for index in range(len(groups) - 1, -1, -1):
        group = groups[index]
        if group == 0:
            continue  # an empty group is skipped: 1.000.500 "một triệu năm trăm"
        words += _read_below_thousand(group, full=full or bool(words))
        if _SCALES[index]:
            words.append(_SCALES[index])
    return " ".join(words)


def read_digits(digits: str) -> str:
    """Read each digit on its own: "0912" -> "không chín một hai" (phones, codes, leading zeros)."""
    return " ".join(DIGITS[int(d)] for d in digits if d.isdecimal())


def read_decimal(integer: str, fraction: str) -> str:
    """Read `integer` "phẩy" `fraction`: ("17", "5") -> "mười bảy phẩy năm".

    The fraction is read as a number when it has one or two digits and no leading zero
    ("98,75" -> "chín mươi tám phẩy bảy mươi lăm"), else digit by digit ("3,05", "3,141").
    """
    whole = read_number(int(integer)) if integer else "không"
    if len(fraction) <= 2 and not fraction.startswith("0"):
        tail = read_number(int(fraction))
    else:
        tail = read_digits(fraction)
    return f"{whole} phẩy {tail}"


def read_ordinal(n: int) -> str:
    """The word after "thứ": 1 -> "nhất", 4 -> "tư", otherwise the cardinal."""
    return {1: "nhất", 4: "tư"}.get(n, read_number(n))


def read_month(n: int) -> str:
    """The word after "tháng": 4 -> "tư" (April is "tháng tư"), otherwise the cardinal."""
    return "tư" if n == 4 else read_number(n)


def read_day(n: int) -> str:
    """The day of a month: days 1-10 take "mồng" in the North ("mồng năm tháng chín")."""
    return f"mồng {read_number(n)}" if 1 <= n <= 10 else read_number(n)


_ROMAN = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100}


def roman_value(text: str) -> int | None:
    """The value of a Roman numeral in canonical form ("XXV" -> 25), or None if it is not one."""
    if not text or any(c not in _ROMAN for c in text):
        return None
    total = 0
    for i, c in enumerate(text):
        value = _ROMAN[c]
        if i + 1 < len(text) and _ROMAN[text[i + 1]] > value:
            total -= value
        else:
            total += value
    return total if 0 < total < 400 and to_roman(total) == text else None


def to_roman(n: int) -> str:
    parts = ((100, "C"), (90, "XC"), (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"),
             (4, "IV"), (1, "I"))
    out = []
    for value, symbol in parts:
        while n >= value:
            out.append(symbol)
            n -= value
    return "".join(out)
