"""The ordered rewrite rules that turn one line of written bulletin Vietnamese into speech.

Sits between `Normalizer` (which splits text into lines and tidies punctuation) and the
tables/number reader (`abbreviations`, `numbers`). In: one line of text. Out: the same line
with every number, date, time, range, unit, phone number, document symbol, Roman numeral and
abbreviation written out as words, plus `Finding`s for what could not be read confidently.

All rules are alternatives of one regular expression, tried left to right; where two could
start at the same place the earlier alternative wins (a document symbol before a range, a
date before a fraction, a phone number before a plain number). Each reader may look at the
words around its match (`ngày 1/3` is a date, `khoảng 1/3` a fraction; `thứ 4` is "thứ tư").

Cost is linear in the text, whatever the text: no rule repeats anything an unbounded number of
times (tests/text/test_linear.py walks every pattern to check), so one match attempt reads at
most a few hundred characters wherever it starts, and readers look at most `_LOOK` characters
around their match. (The old pattern's nested repetitions took minutes on 40,000 characters of
`1-1-1-…`, which a pasted table or a stuck key can produce.)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from broadcaster import i18n
from broadcaster.text import abbreviations as ab
from broadcaster.text.numbers import (
    read_day, read_decimal, read_digits, read_month, read_number, read_ordinal, roman_value,
)

i18n.register({
    "text.unknown_acronym": ("chữ viết tắt chưa biết, sẽ đánh vần từng chữ cái; thêm vào từ điển phát âm của đài",
                             "unknown abbreviation, will be spelled letter by letter; add it to the station's pronunciation dictionary"),
    "text.odd_symbol": ("ký hiệu lạ, sẽ bị bỏ qua khi đọc", "odd symbol, will be skipped when read aloud"),
    "text.slash": ("dấu gạch chéo giữa hai từ, sẽ bị bỏ qua khi đọc", "slash between words, will be skipped when read aloud"),
    "text.long_number": ("số quá dài, sẽ đọc từng chữ số", "number too long, will be read digit by digit"),
    "text.number_shape": ("dạng số không rõ, sẽ đọc từng nhóm", "unclear number shape, will be read group by group"),
    "text.date_or_fraction": ("không rõ là ngày hay phân số, đang đọc là {reading}",
                              "unclear whether a date or a fraction, reading it as {reading}"),
    "text.ambiguous_acronym": ("chữ viết tắt có nhiều nghĩa, đang đọc là «{reading}»",
                               "abbreviation with several meanings, reading it as «{reading}»"),
    "text.unknown_symbol_part": ("phần ký hiệu văn bản chưa biết, sẽ đánh vần",
                                 "unknown part of a document symbol, will be spelled"),
})


@dataclass(frozen=True)
class Finding:
    """Something in a text the normalizer could not read confidently (line, column are 1-based)."""

    line: int
    column: int
    token: str
    reason: str


# Raw findings collected while rewriting one line: (0-based column, token, message key, params).
RawFinding = tuple[int, str, str, dict]

_DAY = r"(?:0?[1-9]|[12]\d|3[01])"
_MONTH = r"(?:0?[1-9]|1[0-2])"
_YEAR = r"(?:1[89]\d\d|2\d\d\d)"
# Every repetition in a rule is bounded (no `*` or `+`), so one match attempt reads at most a few
# hundred characters wherever it starts and a line costs time in proportion to its length. The
# bounds are far beyond what a bulletin writes: a number of 40 digits, a word of 30 letters, a
# domain label of 63 characters (the DNS limit); longer runs are read in pieces.
# "1 000 000 đồng": a space between thousands when the number ends in 000 or money follows.
_SPACED = (r"[1-9]\d{0,2}(?:[ \u00a0]\d{3}){0,7}[ \u00a0]000(?!\d)"
           r"|[1-9]\d{0,2}(?:[ \u00a0]\d{3}){1,8}(?=\s?(?:đồng|đ|VNĐ|VND|người|hộ)(?!\w))")
_NUM = rf"(?:(?=\d{{1,3}}[ \u00a0]\d)(?:{_SPACED})|\d{{1,3}}(?:\.\d{{3}}){{1,8}}(?:,\d{{1,9}})?|\d{{1,3}}(?:,\d{{3}}){{2,8}}|\d{{1,40}}(?:[.,]\d{{1,20}})?)"
_PART = r"[A-ZĐ][A-Za-zĐđ&]{0,15}\d{0,10}"
_HOUR = r"(?:[01]?\d|2[0-4])"
_MIN = r"[0-5]\d"
_LETTERS = r"[^\W\d_²³¹]"
_WORD_TAIL = r"(?:[^\W²³¹]|&){0,30}"
_SP = r"\s{0,3}"               # spaces around punctuation; longer runs are left to the tidy pass
_NB = r"(?<![\w.,/])"          # not glued to a preceding number, word or symbol

# Words before a d/m pair that make it a date, or a fraction.
_DATE_CONTEXT = {"ngày", "mồng", "mùng", "hôm", "từ", "đến", "tới", "sáng", "chiều", "tối", "trưa",
                 "đêm", "rạng", "trước", "sau", "và", "hạn", "đợt", "lịch"}
_FRACTION_CONTEXT = {"khoảng", "chiếm", "được", "gần", "hơn", "trên", "dưới", "còn", "đạt", "có",
                     "bằng", "tăng", "giảm", "nửa", "quá", "phần", "hết", "mất"}
# Words after which a Roman numeral is a number ("khóa XXV", "Quý IV", "thế kỷ XXI").
_ROMAN_CONTEXT = {"quý", "khóa", "khoá", "phần", "mục", "chương", "lần", "kỷ", "hội", "kỳ", "tập",
                  "đợt", "giai", "cấp", "vùng", "quân", "số", "thứ"}
# Words after "TT" that make it "thường trực" (the standing committee of that body).
_STANDING_BODIES = {"đảng", "đảng ủy", "đu", "hđnd", "ubnd", "ub", "mttq", "huyện", "tỉnh", "thành",
                    "hu", "tu", "hội", "ban", "ubmttq", "quận", "xã"}
_TWO_SENSE = {"CT", "TT", "TU", "HU", "CN"}
_WEEKDAYS = {"T2": "thứ hai", "T3": "thứ ba", "T4": "thứ tư", "T5": "thứ năm", "T6": "thứ sáu",
             "T7": "thứ bảy", "CN": "chủ nhật"}
# Words before CN that make it Sunday without doubt; after "khu", "cụm" it is an industrial zone.
_SUNDAY_CONTEXT = {"sáng", "chiều", "tối", "trưa", "đêm", "ngày", "các", "và", "hoặc", "đến", "từ",
                   "nghỉ", "trực", "làm", "mở", "cả", "thứ", "hàng", "tuần"}
_INDUSTRY_CONTEXT = {"khu", "cụm", "ngành"}
# National hotlines (111 child protection, 112 rescue, 113 police, 114 fire, 115 ambulance):
# read digit by digit after a word for calling, or in a list with another of them.
_LIST_JOINT = r"(?:\s{0,3}(?:[,;/&-]|và|hoặc)\s{0,3}|\s{1,3})"
_EMERGENCY_LIST_BEFORE = re.compile(rf"(?<!\d)11[1-5]{_LIST_JOINT}$")
_EMERGENCY_LIST_AFTER = re.compile(rf"{_LIST_JOINT}11[1-5](?!\d)")
_DIAL_NEAR = re.compile(r"(?:gọi|nóng|đài|hotline|thoại|đt|sđt)\W{1,3}(?:[^\W\d]{1,8}\W{1,3}){0,2}$",
                        re.IGNORECASE)          # "gọi ngay 114", "gọi số 115"
_SIGNATURE = {"TM": "thay mặt", "KT": "ký thay", "TL": "thừa lệnh", "TUQ": "thừa ủy quyền"}
_DOC_WORDS = {"số"}
# Words before a short number that make it a number to dial ("gọi 114", "tổng đài 1022").
_DIAL_CONTEXT = {"gọi", "nóng", "đài", "hotline", "thoại", "đt", "sđt"}
_URL_WORDS = {"www": "vê kép vê kép vê kép", "vn": "vê en", "http": "hát tê tê pê",
              "https": "hát tê tê pê ét", "com": "com", "gov": "gốp"}


def _alternation(keys) -> str:
    return "|".join(re.escape(k) for k in sorted(keys, key=len, reverse=True))


_UNITS_SPACED = _alternation(k for k in ab.UNITS if k not in ab.TIGHT_UNITS)
_UNITS_TIGHT = _alternation(ab.TIGHT_UNITS)

_PATTERNS: list[tuple[str, str]] = [
    ("markup", r"\*{2,40}|_{2,40}"),
    ("endmark", r"\./\."),
    ("bullet", r"^\s{0,40}[-–—•●▪◦*+](?=\s)"),
    ("heading_roman", r"^\s{0,40}(?P<hr>[IVXL]{1,8})" + _SP + r"[.)](?=\s|$)"),
    ("heading_number", r"^\s{0,40}(?P<hn>\d{1,2}(?:\.\d{1,2}){0,4})\.?[.)](?=\s)"),
    # 28-KH/HU, 03-NQ/TU, 05-CT/TW: number, type, issuing body.
    ("docsym_b", _NB + rf"(?P<db_n>\d{{1,12}}[a-z]?)\s?[-–]\s?(?P<db_rest>{_PART}(?:\s?[-–]\s?{_PART}){{0,4}}/{_PART}(?:[-–]{_PART}){{0,4}})(?![\w/])"),
    # 06/KH-UBND, 125/UBND-VP, 01/2023/TT-BNV, and "/KH- UBND" with the number left blank.
    ("docsym_a", _NB + rf"(?:(?P<da_n>\d{{1,12}}[a-z]?)\s?/\s?(?:(?P<da_y>{_YEAR})/)?(?P<da_rest>{_PART}(?:\s?[-–]\s?{_PART}){{0,4}})"
                 rf"|/(?P<da_blank>{_PART}(?:\s?[-–]\s?{_PART}){{1,4}}))(?![\w/])"),
    ("roman_year", rf"(?<![\w/])(?P<ry_r>[IVX]{{1,8}})/(?P<ry_y>{_YEAR})(?![\w/])"),
    # ngày 10 và 11/3/2024, ngày 10-12/3
    # (The look-ahead, which cannot backtrack, skips at once a run of numbers that no "/" ends.)
    ("date_list", _NB + rf"(?=[\d\s,\-–vàđến]{{2,50}}+/)"
                  rf"(?P<dl_days>{_DAY}(?:{_SP}(?:,|và|-|–|đến){_SP}{_DAY}){{1,6}}){_SP}/{_SP}(?P<dl_m>{_MONTH})"
                  rf"(?:{_SP}/{_SP}(?P<dl_y>{_YEAR}))?(?![\w/]|[.,]\d)"),
    ("date_dmy", _NB + rf"(?P<dd>{_DAY})(?P<sep>[/.-])(?P<dm>{_MONTH})(?P=sep)(?P<dy>{_YEAR})(?![\w/]|[.,]\d)"),
    ("date_my", _NB + rf"(?P<mm>{_MONTH})/(?P<my>{_YEAR})(?![\w/]|[.,]\d)"),
    ("date_dm", _NB + r"(?P<fa>\d{1,2})/(?P<fb>\d{1,2})(?![\w/]|[.,]\d)"),
    # 1.532/1.600 hộ, 19/19 tiêu chí: a count out of a total.
    ("ratio", _NB + rf"(?P<ra>{_NUM})\s?/\s?(?P<rb>{_NUM})(?![\w/])"),
    # 7h, 16h30, 6g30 ("g" only with minutes: "5g" is five grams).
    ("time_h", _NB + rf"(?P<th>{_HOUR})(?:h|g(?={_MIN}))(?P<tm>{_MIN})?(?:'|p(?!\w)|ph(?!\w))?(?!\w)"),
    ("time_colon", r"(?<![\w.,:])" + rf"(?P<ch>{_HOUR}):(?P<cm>{_MIN})(?::[0-5]\d)?(?![\w:]|[.,]\d)"),
    # ISO 9001:2015, TCVN 5945:2005: a standard's number and its year.
    ("code_year", _NB + rf"(?P<cn>\d{{1,6}}):(?P<cy>{_YEAR})(?!\w)"),
    ("url", r"(?<![\w@.-])(?P<u_addr>(?:https?://)?(?:[\w-]{1,63}@)?[\w-]{1,63}(?:\.[\w-]{1,63}){0,6}"
            r"\.(?:vn|com|net|org|gov|edu|info)(?:/[\w./-]{0,200})?)(?![\w])"),
    # 0228 3812 345, 0912.345.678, 0228.3812345, 0987654321, +84 912 345 678; 1800 1234 and
    # 1900 9095 (free and paid hotlines, always eight or ten digits).
    ("phone", _NB + r"(?P<ph>(?:\+84[ .]?\d{2,3}|0\d{2,3})(?:[ .-]\d{3,4}){2}|0\d{2,3}[ .]\d{7,8}|0\d{9,10}"
                    r"|1[89]00[ .]?\d{4}|1[89]00[ .]\d{3}[ .]\d{3})(?![\w]|[.,]\d)"),
    # (0228) 3812345: the area code in brackets.
    ("phone_area", r"\s{0,3}(?<!\()\((?P<pa>0\d{2,3})\)\s?(?P<pb>\d{3,4}(?:[ .-]?\d{3,4})?)(?![\w]|[.,]\d)"),
    # 1.2.3.4, 12,5,6: no reading fits; each group is read and the operator told.
    ("numshape", _NB + r"(?!\d{1,3}(?:\.\d{3}){1,8}(?:,\d{1,9})?(?![\d.,]))(?P<ns>\d{1,20}(?:[.,]\d{1,20}){2,12})(?!\w)"),
    # Số nhà 1A, lớp 12B, lớp 10A1, 4G: a number and a letter (not V or W: 220V, 100W are units).
    ("numbered", _NB + r"(?P<nl_n>\d{1,4})(?P<nl_l>[A-UX-ZĐ]|[a-e])(?P<nl_d>\d{1,2})?(?![\w])"),
    ("negative", r"(?<![\w.,])[-–](?=\d{1,3}(?:,\d{1,3})?\s?°)"),
    ("number", _NB + rf"(?P<n>{_NUM})(?:(?=\s?(?:[^\W\d_]|[°º%]))(?:\s?(?P<u>{_UNITS_SPACED})|(?P<ut>{_UNITS_TIGHT}))(?!\w)"
               rf"(?P<per>(?:\s?/\s?(?:{_UNITS_SPACED}|{_UNITS_TIGHT}|{_LETTERS}{{1,20}})(?!\w)){{0,2}})"
               # A range dash right after a bare number reads "đến", as range_dash would: taken here at once.
               r"|(?P<to>\s?[-–—‒−]\s?(?=\d)))?"),
    ("range_dash", r"(?<=[\w%°²³])\s?[-–—‒−]\s?(?=\d)"),
    ("signature", r"(?<!\w)(?P<sg>TM|KT|TL|TUQ)\.(?=\s{1,8}\S)"),
    # T2-T6, T7, CN: weekdays; "T7, CN" and "T2 - CN" as pairs (CN alone is read by context).
    ("weekday", r"(?<![\w/-])(?:(?P<wd1>T[2-7]|CN)(?P<wd_sep>\s?[-–]\s?|,\s?|\s?/\s?|\s(?:và|hoặc)\s)"
                r"(?P<wd2>T[2-7]|CN)|(?P<wd>T[2-7]))(?![\w/])"),
    ("word", rf"(?P<w>{_LETTERS}{_WORD_TAIL}(?:[-/&]{_LETTERS}{_WORD_TAIL}){{0,8}})"),
    # Punctuation that takes the spaces before it (these five share one check of what follows).
    ("open_paren", _SP + r"[(\[]" + _SP),
    ("close_paren", _SP + r"[)\]]"),
    ("amp", _SP + "&" + _SP),
    ("equals", _SP + "=" + _SP),
    ("percent", _SP + "%"),
    ("degree", _SP + "°C?"),
    ("quote", r"[\"“”‘’«»]|(?<!\w)'|'(?!\w)"),
    ("ellipsis", r"…"),
    ("dash", r"[-–—]{1,10}"),
    ("slash", r"/" + _SP),
    ("plus", r"(?<=\d)" + _SP + r"\+" + _SP + r"(?=\d)"),
    ("digits", r"\d{1,40}"),
    ("odd", r"[^\w\s.,;:!?]|[²³¹]"),
]

_AFTER_DATE = re.compile(r"\d{1,2}/\d{1,2}(?:/\d{4})?\s?[-–]\s?$")   # "30/4-1/5": the second is a date too
_LOOK = 40   # characters looked at around a match for the word before or after it
_DIGIT = re.compile(r"\d")
_PER_PERIOD = re.compile(r"(lần|buổi|ca|lượt|đợt|chuyến|liều|viên)/(ngày|tuần|tháng|năm|quý|kỳ|đêm)")
_GROUPED_DOTS = re.compile(r"\d{1,3}(?:\.\d{3})+(?:,\d+)?")      # 1.234.567,5
_GROUPED_COMMAS = re.compile(r"\d{1,3}(?:,\d{3}){2,}")          # 1,234,567
_NEGATIVE = re.compile(r"\d{1,3}(?:,\d{1,3})?\s?°")
_PREV_WORD_REVERSED = re.compile(r"\W*([^\W\d_]+)")   # matched on the reversed look-back
_NEXT_WORD = re.compile(r"[\s(]{0,8}([^\s,.;:!?()]{1,30})")


def _prev_word(line: str, pos: int) -> str:
    """The word just before `pos` (only non-word characters between), lowercased; "" if none."""
    m = _PREV_WORD_REVERSED.match(line[max(0, pos - _LOOK):pos][::-1])
    return m.group(1)[::-1].lower() if m else ""


def _next_word(line: str, pos: int) -> str:
    m = _NEXT_WORD.match(line, pos, pos + _LOOK)
    return m.group(1) if m else ""


def _is_caps_line(line: str) -> bool:
    """A heading or signature block written in capitals, where "TU" is a word, not an acronym."""
    upper = sum(map(str.isupper, line))
    lower = sum(map(str.islower, line))
    return upper > 3 * lower


def _subscriber(digits: str) -> list[str]:
    """A subscriber number written in one piece, grouped as it is read: 3812345 -> 381 2345."""
    if len(digits) <= 4:
        return [digits]
    return [digits[:-4], digits[-4:]]


def _int(text: str) -> int:
    return int(text.lstrip("0") or "0")


# Rules opening with the same prefix, and the characters they can start with: a run of them is
# wrapped in one group that checks that first character and the prefix once.
_SHARED_PREFIXES = ((_NB, r"(?=[\d/+])"), (_SP, r"(?=\s{0,3}[(\[)\]&=%°])"))


def _combined(patterns: list[tuple[str, str]]) -> str:
    """One alternation of every rule, each a named group, in order.

    Runs of rules that open with a shared prefix (`_NB`: they all start at a digit, "/" or "+";
    `_SP`: spaces before a bracket, "&", "=", "%" or "°") are wrapped in one group that checks
    the first character and the prefix once: the order of the rules is unchanged, but a word or a
    space no longer walks through each of them (about a third less time on ordinary text).
    """
    parts: list[str] = []
    run: list[str] = []
    run_prefix: tuple[str, str] | None = None
    for name, pattern in patterns + [("", "")]:
        prefix = next((p for p in _SHARED_PREFIXES if name and pattern.startswith(p[0])), None)
        if run and prefix != run_prefix:
            parts.append(f"{run_prefix[1]}{run_prefix[0]}(?:{'|'.join(run)})")
            run = []
        if prefix is not None:
            run.append(f"(?P<{name}>{pattern[len(prefix[0]):]})")
            run_prefix = prefix
        elif name:
            parts.append(f"(?P<{name}>{pattern})")
    return "|".join(parts)


class Rules:
    """The compiled rules for one set of station overrides."""

    def __init__(self, overrides: Mapping[str, str] | None = None) -> None:
        self.overrides = dict(overrides or {})
        patterns = list(_PATTERNS)
        if self.overrides:
            patterns.insert(0, ("override", rf"(?<!\w)(?P<ov>{_alternation(self.overrides)})(?!\w)"))
        self._regex = re.compile(_combined(patterns), re.MULTILINE)
        self._readers: dict[str, Callable[[re.Match, _Line], str]] = {
            name: getattr(self, "_" + name) for name, _ in patterns
        }

    def apply(self, line: str, findings: list[RawFinding] | None = None) -> str:
        state = _Line(line, findings, _is_caps_line(line))
        return self._regex.sub(lambda m: self._readers[m.lastgroup](m, state), line)

    # Table look-ups --------------------------------------------------------------------

    def lookup(self, token: str, state: "_Line", pos: int) -> str:
        """The reading of one word-like token: station dictionary, context rules, tables, spelling."""
        if token in self.overrides:
            return self.overrides[token]
        context = self._two_sense(token, state, pos)
        if context is not None:
            return context
        if token in ab.ACRONYMS:
            if state.caps and ab.is_vietnamese_syllable(token):
                return token
            return ab.ACRONYMS[token]
        if token in ab.WORDS:
            return ab.WORDS[token]
        if token != token.upper():          # has a lowercase letter
            lowered = token.lower()
            if token[0].isupper() and token[1:].islower() and lowered in ab.WORDS:
                return ab.WORDS[lowered]
            return token
        if ab.is_vietnamese_syllable(token):
            return token
        if token in ab.SYMBOL_PARTS and token not in {"TU", "HU", "L"}:
            return ab.SYMBOL_PARTS[token]
        if len(token) == 1:
            return ab.spell(token)
        state.find(pos, token, "text.unknown_acronym")
        return ab.spell(token)

    def _two_sense(self, token: str, state: "_Line", pos: int) -> str | None:
        """CT, TT, TU, HU outside document symbols: read by the words around them."""
        if token not in _TWO_SENSE:
            return None
        following = _next_word(state.text, pos + len(token))
        if token == "CT":
            nxt = following.lower()
            return "chỉ thị" if nxt == "số" or nxt[:1].isdecimal() else "chủ tịch"
        if token == "TT":
            nxt = following.lower()
            if nxt in _STANDING_BODIES or nxt.startswith("đảng"):
                return "thường trực"
            if nxt == "số" or nxt[:1].isdecimal():
                return "thông tư"
            if following[:1].isupper() and not following.isupper():
                return "thị trấn"
            state.find(pos, token, "text.ambiguous_acronym", reading="thường trực")
            return "thường trực"
        if token in {"TU", "HU"} and not state.caps:
            return ab.SYMBOL_PARTS[token]
        if token == "CN":
            before = _prev_word(state.text, pos)
            if before in _INDUSTRY_CONTEXT:
                return "công nghiệp"
            if before not in _SUNDAY_CONTEXT and not following[:1].isdecimal():
                state.find(pos, token, "text.ambiguous_acronym", reading="chủ nhật")
            return "chủ nhật"
        return None

    def symbol_part(self, part: str, state: "_Line", pos: int) -> str:
        if part in self.overrides:
            return self.overrides[part]
        if part in ab.SYMBOL_PARTS:
            return ab.SYMBOL_PARTS[part]
        if part in ab.ACRONYMS:
            return ab.ACRONYMS[part]
        m = re.fullmatch(r"(\D+)(\d+)", part)
        if m and (m.group(1) in ab.SYMBOL_PARTS or m.group(1) in ab.ACRONYMS):
            return self.symbol_part(m.group(1), state, pos) + " " + read_number(int(m.group(2)))
        state.find(pos, part, "text.unknown_symbol_part")
        return ab.spell(part)

    def symbol_tail(self, text: str, state: "_Line", pos: int) -> str:
        """`KH-UBND`, `NQ/TU`: parts read from the symbol tables, "-" as "gạch", "/" as "trên"."""
        out = []
        for m in re.finditer(r"[^\s/\-–]+|/|[-–]", text):
            piece = m.group()
            if piece == "/":
                out.append("trên")
            elif piece in "-–":
                out.append("gạch")
            else:
                out.append(self.symbol_part(piece, state, pos + m.start()))
        return " ".join(out)

    # Readers, one per rule -------------------------------------------------------------

    def _override(self, m: re.Match, state: "_Line") -> str:
        return f" {self.overrides[m.group('ov')]} "

    def _markup(self, m: re.Match, state: "_Line") -> str:
        return " "

    def _endmark(self, m: re.Match, state: "_Line") -> str:
        return "."

    def _bullet(self, m: re.Match, state: "_Line") -> str:
        return ""

    def _heading_roman(self, m: re.Match, state: "_Line") -> str:
        value = roman_value(m.group("hr"))
        if value is None:
            return self._word_text(m.group("hr"), state, m.start("hr")) + "."
        return f"Phần {read_number(value)}."

    def _heading_number(self, m: re.Match, state: "_Line") -> str:
        spoken = " chấm ".join(read_number(int(p)) for p in m.group("hn").split("."))
        return spoken[0].upper() + spoken[1:] + "."

    def _docsym_b(self, m: re.Match, state: "_Line") -> str:
        number = self._symbol_number(m.group("db_n"))
        return f" {number} gạch {self.symbol_tail(m.group('db_rest'), state, m.start('db_rest'))} "

    def _docsym_a(self, m: re.Match, state: "_Line") -> str:
        if m.group("da_blank"):
            return f" {self.symbol_tail(m.group('da_blank'), state, m.start('da_blank'))} "
        words = [self._symbol_number(m.group("da_n")), "trên"]
        if m.group("da_y"):
            words += [read_number(int(m.group("da_y"))), "trên"]
        words.append(self.symbol_tail(m.group("da_rest"), state, m.start("da_rest")))
        return " " + " ".join(words) + " "

    @staticmethod
    def _symbol_number(text: str) -> str:
        digits = re.match(r"\d+", text).group()
        suffix = text[len(digits):]
        spoken = read_digits(digits) if digits.startswith("0") and len(digits) > 1 else read_number(int(digits))
        return spoken + (" " + ab.spell(suffix) if suffix else "")

    def _roman_year(self, m: re.Match, state: "_Line") -> str:
        value = roman_value(m.group("ry_r"))
        year = read_number(int(m.group("ry_y")))
        if value is None:
            return f"{self._word_text(m.group('ry_r'), state, m.start())} năm {year}"
        return f"{read_number(value)} năm {year}"

    def _date_list(self, m: re.Match, state: "_Line") -> str:
        days = re.split(r"\s*(,|và|-|–|đến)\s*", m.group("dl_days"))
        words = []
        for i, piece in enumerate(days):
            if i % 2:
                words.append({"-": "đến", "–": "đến", ",": ","}.get(piece, piece))
            else:
                words.append(read_day(_int(piece)) if i == 0 else read_number(_int(piece)))
        text = " ".join(words).replace(" ,", ",") + f" tháng {read_month(_int(m.group('dl_m')))}"
        if m.group("dl_y"):
            text += f" năm {read_number(int(m.group('dl_y')))}"
        return self._with_day_word(text, state, m.start())

    def _date_dmy(self, m: re.Match, state: "_Line") -> str:
        text = (f"{read_day(_int(m.group('dd')))} tháng {read_month(_int(m.group('dm')))}"
                f" năm {read_number(int(m.group('dy')))}")
        return self._with_day_word(text, state, m.start())

    @staticmethod
    def _with_day_word(text: str, state: "_Line", pos: int) -> str:
        before = _prev_word(state.text, pos)
        if before in {"mồng", "mùng"}:
            text = text.removeprefix("mồng ")
        elif before != "ngày":
            text = "ngày " + text
        return text

    def _date_my(self, m: re.Match, state: "_Line") -> str:
        before = _prev_word(state.text, m.start())
        month = read_month(_int(m.group("mm")))
        year = read_number(int(m.group("my")))
        if before in _DOC_WORDS:
            return f"{self._symbol_number(m.group('mm'))} trên {year}"
        return f"{month} năm {year}" if before == "tháng" else f"tháng {month} năm {year}"

    def _date_dm(self, m: re.Match, state: "_Line") -> str:
        a, b = _int(m.group("fa")), _int(m.group("fb"))
        before = _prev_word(state.text, m.start())
        is_date = 1 <= a <= 31 and 1 <= b <= 12
        fraction = self._fraction(a, b)
        if before in _DOC_WORDS:
            return f"{self._symbol_number(m.group('fa'))} trên {read_number(b)}"
        if not is_date or before in _FRACTION_CONTEXT:
            return fraction
        date = f"{read_day(a)} tháng {read_month(b)}"
        if before in _DATE_CONTEXT or _AFTER_DATE.search(state.text, max(0, m.start() - _LOOK), m.start()):
            return self._with_day_word(date, state, m.start())
        if a < b and b <= 10:
            state.find(m.start(), m.group(), "text.date_or_fraction", reading=fraction)
            return fraction
        state.find(m.start(), m.group(), "text.date_or_fraction", reading="ngày " + date)
        return "ngày " + date

    @staticmethod
    def _fraction(a: int, b: int) -> str:
        """A small proper fraction is "phần" ("một phần tư"); a count out of a total is "trên"."""
        if 0 < a < b <= 10:
            return f"{read_number(a)} phần {'tư' if b == 4 else read_number(b)}"
        return f"{read_number(a)} trên {read_number(b)}"

    def _ratio(self, m: re.Match, state: "_Line") -> str:
        a = self._plain_number(m.group("ra"), state, m.start("ra"))
        b = self._plain_number(m.group("rb"), state, m.start("rb"))
        return f"{a} trên {b}"

    def _numshape(self, m: re.Match, state: "_Line") -> str:
        state.find(m.start(), m.group(), "text.number_shape")
        pieces = re.split(r"([.,])", m.group("ns"))
        return " ".join({".": "chấm", ",": "phẩy"}.get(p) or read_number(int(p)) for p in pieces)

    def _digits(self, m: re.Match, state: "_Line") -> str:
        state.find(m.start(), m.group(), "text.number_shape")
        return " " + read_digits(m.group()) + " "

    def _time_h(self, m: re.Match, state: "_Line") -> str:
        return self._time(m.group("th"), m.group("tm"))

    def _time_colon(self, m: re.Match, state: "_Line") -> str:
        return self._time(m.group("ch"), m.group("cm"))

    @staticmethod
    def _time(hour: str, minute: str | None) -> str:
        text = f"{read_number(int(hour))} giờ"
        if minute and int(minute):
            text += f" {read_number(int(minute))} phút"
        return text

    def _code_year(self, m: re.Match, state: "_Line") -> str:
        return f"{self._plain_number(m.group('cn'), state, m.start())} năm {read_number(int(m.group('cy')))}"

    def _url(self, m: re.Match, state: "_Line") -> str:
        words = []
        for piece in re.finditer(r"[^\W_]+|[@./:]", m.group("u_addr")):
            text = piece.group()
            words.append({".": "chấm", "@": "a còng", "/": "gạch chéo", ":": ""}.get(text) or _URL_WORDS.get(text.lower(), text))
        return " ".join(w for w in words if w)

    def _phone(self, m: re.Match, state: "_Line") -> str:
        raw = m.group("ph")
        groups = re.split(r"[ .-]", raw)
        if len(groups) == 1 and raw[:1] == "1":
            groups = [raw[:4], raw[4:]]                       # 18001234
        elif len(groups) == 1:
            digits = groups[0]
            groups = [digits[:4], digits[4:7], digits[7:]]
        elif len(groups) == 2 and len(groups[1]) > 4:
            groups = [groups[0], *_subscriber(groups[1])]    # 0228.3812345
        spoken = []
        for group in groups:
            if group.startswith("+"):
                spoken.append("cộng " + read_digits(group[1:]))
            else:
                spoken.append(read_digits(group))
        return " " + ", ".join(spoken) + " "

    def _phone_area(self, m: re.Match, state: "_Line") -> str:
        groups = re.split(r"[ .-]", m.group("pb"))
        if len(groups) == 1:
            groups = _subscriber(groups[0])
        return " " + ", ".join(read_digits(g) for g in [m.group("pa"), *groups]) + " "

    def _numbered(self, m: re.Match, state: "_Line") -> str:
        words = [self._plain_number(m.group("nl_n"), state, m.start()), ab.spell(m.group("nl_l"))]
        if m.group("nl_d"):
            words.append(read_number(int(m.group("nl_d"))))
        return " ".join(words)

    def _weekday(self, m: re.Match, state: "_Line") -> str:
        if m.group("wd"):
            return _WEEKDAYS[m.group("wd")]
        sep = m.group("wd_sep").strip()
        joint = {"-": " đến ", "–": " đến ", ",": ", ", "/": " và "}.get(sep, f" {sep} ")
        return _WEEKDAYS[m.group("wd1")] + joint + _WEEKDAYS[m.group("wd2")]

    def _negative(self, m: re.Match, state: "_Line") -> str:
        return "âm "

    def _number(self, m: re.Match, state: "_Line") -> str:
        text = self._plain_number(m.group("n"), state, m.start())
        unit = m.group("u") or m.group("ut")
        if unit:
            text += " " + ab.UNITS[unit]
            for per in re.findall(r"/\s?([^/\s]+)", m.group("per") or ""):
                text += " trên " + ab.UNITS.get(per, per)
        return text + " đến " if m.group("to") else text

    def _plain_number(self, raw: str, state: "_Line", pos: int) -> str:
        """A number standing alone, read by what precedes and follows it."""
        before = _prev_word(state.text, pos)
        if " " in raw or "\u00a0" in raw:
            return read_number(int(raw.replace(" ", "").replace("\u00a0", "")))
        if _GROUPED_DOTS.fullmatch(raw):
            whole, _, fraction = raw.partition(",")
            value = int(whole.replace(".", ""))
            return read_decimal(str(value), fraction) if fraction else read_number(value)
        if _GROUPED_COMMAS.fullmatch(raw):
            return read_number(int(raw.replace(",", "")))
        if "," in raw or "." in raw:
            whole, fraction = re.split(r"[.,]", raw)
            return read_decimal(whole, fraction)
        if len(raw) > 15:
            state.find(pos, raw, "text.long_number")
            return read_digits(raw)
        value = int(raw)
        if before == "thứ":
            return read_ordinal(value)
        if before == "tháng" and 1 <= value <= 12:
            return read_month(value)
        if before in {"ngày", "mồng", "mùng"} and 1 <= value <= 31:
            after = _next_word(state.text, pos + len(raw)).lower()
            if after == "tháng" and before == "ngày":
                return read_day(value)
            return read_number(value)
        if before == "giờ" and value < 60:
            return read_number(value)   # "7 giờ 05": minutes, not a code
        if before in _DIAL_CONTEXT and len(raw) >= 3:
            return read_digits(raw)
        if raw in {"111", "112", "113", "114", "115"} and (
                _DIAL_NEAR.search(state.text, max(0, pos - _LOOK), pos)
                or _EMERGENCY_LIST_BEFORE.search(state.text, max(0, pos - _LOOK), pos)
                or _EMERGENCY_LIST_AFTER.match(state.text, pos + 3, pos + 3 + _LOOK)):
            return read_digits(raw)
        if raw.startswith("0") and len(raw) > 1:
            return read_digits(raw)
        return read_number(value)

    def _range_dash(self, m: re.Match, state: "_Line") -> str:
        if state.text[m.start() - 1].isdecimal():
            return " đến "                 # 2021-2025, 7h-11h, 1-1-1-…: the common case, at once
        # Only the last word before the dash matters; a bounded look keeps long lines linear.
        before = state.text[max(0, m.start() - _LOOK):m.start()]
        token = before.rsplit(None, 1)[-1] if before.strip() else ""
        if _DIGIT.search(token):
            return " đến "
        if m.group().startswith(" ") and not m.group().endswith(" ") and _NEGATIVE.match(state.text, m.end()):
            return " âm "
        return " "

    def _signature(self, m: re.Match, state: "_Line") -> str:
        return self.overrides.get(m.group("sg"), _SIGNATURE[m.group("sg")])

    def _word(self, m: re.Match, state: "_Line") -> str:
        token = m.group("w")
        if token.islower() and token.isalpha() and token not in ab.WORDS and token not in self.overrides:
            return token                   # most of a bulletin: an ordinary word reads as written
        return self._word_text(token, state, m.start())

    def _word_text(self, token: str, state: "_Line", pos: int) -> str:
        if token in self.overrides:
            return self.overrides[token]
        value = roman_value(token)
        if value is not None and (len(token) > 1 or token in "IVX") and _prev_word(state.text, pos) in _ROMAN_CONTEXT:
            return read_number(value)
        if token in ab.ACRONYMS or token in ab.WORDS or token.isalpha():
            return self.lookup(token, state, pos)
        if _DIGIT.search(token):
            # H5N1, F0, QH14: letters by the tables, digit runs as numbers.
            out = []
            for piece in re.finditer(r"\d+|\D+", token):
                text = piece.group()
                if text.isdecimal():
                    out.append(read_digits(text) if text.startswith("0") else read_number(int(text)))
                else:
                    out.append(self._word_text(text, state, pos + piece.start()))
            return " ".join(out)
        per = _PER_PERIOD.fullmatch(token)
        if per:
            return f"{per.group(1)} một {per.group(2)}"      # 3 lần/tuần: "ba lần một tuần"
        if any(sep in token for sep in "/-&"):
            out = []
            for piece in re.finditer(r"[^/\-&]+|[/\-&]", token):
                text = piece.group()
                if text == "/":
                    state.find(pos + piece.start(), token, "text.slash")
                    out.append(" ")
                elif text == "-":
                    out.append(" ")
                elif text == "&":
                    out.append(" và ")
                else:
                    out.append(self.lookup(text, state, pos + piece.start()))
            return "".join(out)
        return self.lookup(token, state, pos)

    def _open_paren(self, m: re.Match, state: "_Line") -> str:
        return ", "

    def _close_paren(self, m: re.Match, state: "_Line") -> str:
        return ","

    def _quote(self, m: re.Match, state: "_Line") -> str:
        return ""

    def _ellipsis(self, m: re.Match, state: "_Line") -> str:
        return "..."

    def _dash(self, m: re.Match, state: "_Line") -> str:
        return " "

    def _slash(self, m: re.Match, state: "_Line") -> str:
        state.find(m.start(), "/", "text.slash")
        return " "

    def _amp(self, m: re.Match, state: "_Line") -> str:
        return " và "

    def _plus(self, m: re.Match, state: "_Line") -> str:
        return " cộng "

    def _equals(self, m: re.Match, state: "_Line") -> str:
        return " bằng "

    def _percent(self, m: re.Match, state: "_Line") -> str:
        return " phần trăm "

    def _degree(self, m: re.Match, state: "_Line") -> str:
        return " độ xê " if m.group().endswith("C") else " độ "

    def _odd(self, m: re.Match, state: "_Line") -> str:
        state.find(m.start(), m.group(), "text.odd_symbol")
        return " "


class _Line:
    """One line being rewritten: its text, whether it is in capitals, and where findings go."""

    __slots__ = ("text", "findings", "caps")

    def __init__(self, text: str, findings: list[RawFinding] | None, caps: bool) -> None:
        self.text = text
        self.findings = findings
        self.caps = caps

    def find(self, pos: int, token: str, key: str, **params: object) -> None:
        if self.findings is not None:
            self.findings.append((pos, token, key, params))
