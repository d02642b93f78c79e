"""Default readings: government and commune abbreviations, units, borrowed words, letter names.

Read by `broadcaster.text.rules`. A station's own pronunciation dictionary (YAML, see
`broadcaster.text.dictionary`) is consulted before these tables and wins over them.
Two-sense acronyms (CT, TT, TU, ...) have one reading here and one in `SYMBOL_PARTS`, used
inside document symbols such as `05-CT/TW`; `rules` also applies context rules around them.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from broadcaster.text.numbers import DIGITS

# Acronyms read the same wherever they stand. Keys are case-sensitive written forms.
ACRONYMS: dict[str, str] = {
    # State bodies and offices
    "UBND": "ủy ban nhân dân", "HĐND": "hội đồng nhân dân", "UB": "ủy ban",
    "MTTQ": "mặt trận tổ quốc", "UBMTTQ": "ủy ban mặt trận tổ quốc",
    "MTTQVN": "mặt trận tổ quốc việt nam", "TAND": "tòa án nhân dân",
    "VKSND": "viện kiểm sát nhân dân", "CAND": "công an nhân dân", "QĐND": "quân đội nhân dân",
    "CA": "công an", "BCH": "ban chấp hành", "BTV": "ban thường vụ", "BCĐ": "ban chỉ đạo",
    "BQL": "ban quản lý", "BTC": "ban tổ chức", "BCT": "bộ chính trị", "TW": "trung ương",
    "TƯ": "trung ương", "ĐU": "đảng ủy", "ĐUK": "đảng ủy khối", "HU": "huyện ủy",
    "HĐ": "hội đồng", "VP": "văn phòng", "VPĐK": "văn phòng đăng ký",
    "CP": "chính phủ", "TTg": "thủ tướng chính phủ", "QH": "quốc hội", "BNV": "bộ nội vụ",
    "BYT": "bộ y tế", "BCA": "bộ công an", "BQP": "bộ quốc phòng",
    "BTTTT": "bộ thông tin và truyền thông", "BNN": "bộ nông nghiệp",
    "BNNPTNT": "bộ nông nghiệp và phát triển nông thôn", "BTNMT": "bộ tài nguyên và môi trường",
    "BGDĐT": "bộ giáo dục và đào tạo", "BLĐTBXH": "bộ lao động thương binh và xã hội",
    "BVHTTDL": "bộ văn hóa thể thao và du lịch", "BKHĐT": "bộ kế hoạch và đầu tư",
    "BXD": "bộ xây dựng", "BGTVT": "bộ giao thông vận tải", "BTP": "bộ tư pháp",
    "PCT": "phó chủ tịch", "PBT": "phó bí thư", "BT": "bí thư", "GĐ": "giám đốc",
    "PGĐ": "phó giám đốc", "TP": "thành phố", "TX": "thị xã", "TTr": "tờ trình",
    "TM": "thay mặt", "KT": "ký thay", "TL": "thừa lệnh", "TUQ": "thừa ủy quyền",
    "VT": "văn thư", "Đ/c": "đồng chí", "đ/c": "đồng chí", "V/v": "về việc", "v/v": "về việc",
    "ĐT": "điện thoại", "SĐT": "số điện thoại", "ĐC": "địa chỉ",
    # Mass organisations and local units
    "LHPN": "liên hiệp phụ nữ", "HLHPN": "hội liên hiệp phụ nữ", "HPN": "hội phụ nữ",
    "HND": "hội nông dân", "HCCB": "hội cựu chiến binh", "CCB": "cựu chiến binh",
    "ĐTN": "đoàn thanh niên", "TNCS": "thanh niên cộng sản", "HTX": "hợp tác xã",
    "TDP": "tổ dân phố", "KDC": "khu dân cư", "BCHQS": "ban chỉ huy quân sự",
    "DQTV": "dân quân tự vệ", "NVQS": "nghĩa vụ quân sự", "TNXP": "thanh niên xung phong",
    "HĐBT": "hội đồng bảo trợ", "CLB": "câu lạc bộ", "NVH": "nhà văn hóa",
    "THCS": "trung học cơ sở", "THPT": "trung học phổ thông", "TH": "tiểu học",
    "MN": "mầm non", "GDTX": "giáo dục thường xuyên", "TTYT": "trung tâm y tế",
    "TYT": "trạm y tế", "BV": "bệnh viện", "BVĐK": "bệnh viện đa khoa",
    "GD&ĐT": "giáo dục và đào tạo", "GDĐT": "giáo dục và đào tạo", "GD": "giáo dục",
    "NN&PTNT": "nông nghiệp và phát triển nông thôn", "NNPTNT": "nông nghiệp và phát triển nông thôn",
    "TN&MT": "tài nguyên và môi trường", "TNMT": "tài nguyên và môi trường",
    "LĐTBXH": "lao động thương binh và xã hội", "LĐ-TB&XH": "lao động thương binh và xã hội",
    "VH-TT": "văn hóa thông tin", "VHTT": "văn hóa thông tin", "VHXH": "văn hóa xã hội",
    "TC-KH": "tài chính kế hoạch", "TCKH": "tài chính kế hoạch", "KT-HT": "kinh tế hạ tầng",
    "ĐCCT": "địa chính chính trị",
    # Programmes and topics
    "CCHC": "cải cách hành chính", "TTHC": "thủ tục hành chính", "CNTT": "công nghệ thông tin",
    "CQĐT": "chính quyền điện tử", "CĐS": "chuyển đổi số", "DVC": "dịch vụ công",
    "DVCTT": "dịch vụ công trực tuyến", "BHYT": "bảo hiểm y tế", "BHXH": "bảo hiểm xã hội",
    "BHTN": "bảo hiểm thất nghiệp", "PCCC": "phòng cháy chữa cháy",
    "PCCC&CNCH": "phòng cháy chữa cháy và cứu nạn cứu hộ", "CNCH": "cứu nạn cứu hộ",
    "PCTT": "phòng chống thiên tai", "PCTT&TKCN": "phòng chống thiên tai và tìm kiếm cứu nạn",
    "TKCN": "tìm kiếm cứu nạn", "ATGT": "an toàn giao thông", "ATTP": "an toàn thực phẩm",
    "VSATTP": "vệ sinh an toàn thực phẩm", "ANTT": "an ninh trật tự", "ANQP": "an ninh quốc phòng",
    "QP-AN": "quốc phòng an ninh", "QPAN": "quốc phòng an ninh", "KT-XH": "kinh tế xã hội",
    "KTXH": "kinh tế xã hội", "NTM": "nông thôn mới", "XDNTM": "xây dựng nông thôn mới",
    "OCOP": "ô cốp", "GPMB": "giải phóng mặt bằng", "QSDĐ": "quyền sử dụng đất",
    "GCN": "giấy chứng nhận", "GCNQSDĐ": "giấy chứng nhận quyền sử dụng đất",
    "CCCD": "căn cước công dân", "CMND": "chứng minh nhân dân", "ĐDCN": "định danh cá nhân",
    "HSSV": "học sinh sinh viên", "CBCCVC": "cán bộ công chức viên chức", "CBCC": "cán bộ công chức",
    "CB": "cán bộ", "CNVC": "công nhân viên chức", "NLĐ": "người lao động",
    "KHHGĐ": "kế hoạch hóa gia đình", "DS-KHHGĐ": "dân số kế hoạch hóa gia đình",
    "HIV/AIDS": "hát i vê ết", "TCVN": "tiêu chuẩn việt nam", "QCVN": "quy chuẩn việt nam",
    "VN": "việt nam", "CHXHCN": "cộng hòa xã hội chủ nghĩa", "XHCN": "xã hội chủ nghĩa",
    "CNXH": "chủ nghĩa xã hội", "ĐCSVN": "đảng cộng sản việt nam", "HCM": "hồ chí minh",
    "TP.HCM": "thành phố hồ chí minh", "TPHCM": "thành phố hồ chí minh",
    "KCN": "khu công nghiệp", "CCN": "cụm công nghiệp", "NSNN": "ngân sách nhà nước",
    "NS": "ngân sách", "XDCB": "xây dựng cơ bản", "ĐTXD": "đầu tư xây dựng",
    "VNĐ": "đồng", "VND": "đồng", "USD": "đô la mỹ", "GDP": "gờ đê pê", "ATM": "a tê mờ",
    "SMS": "ét em ét", "QR": "qui a",
    "STT": "số thứ tự", "KTTV": "khí tượng thủy văn", "TTDBKTTV": "trung tâm dự báo khí tượng thủy văn",
    "ĐBQH": "đại biểu quốc hội", "ĐB": "đại biểu", "UBKT": "ủy ban kiểm tra", "TTCP": "thanh tra chính phủ", "TB": "thông báo",
    # What commune notices write about power cuts, vaccination, elections, call-up, roads, weather.
    "TBA": "trạm biến áp", "MBA": "máy biến áp", "ĐZ": "đường dây", "EVN": "e vê en",
    "TCMR": "tiêm chủng mở rộng", "HĐBC": "hội đồng bầu cử", "UBBC": "ủy ban bầu cử",
    "BBC": "ban bầu cử", "TBC": "tổ bầu cử", "ĐKNVQS": "đăng ký nghĩa vụ quân sự",
    "QL": "quốc lộ", "CSGT": "cảnh sát giao thông", "ATNĐ": "áp thấp nhiệt đới",
    "PCLB": "phòng chống lụt bão", "XLVPHC": "xử lý vi phạm hành chính",
    "ATVSTP": "an toàn vệ sinh thực phẩm", "KV": "khu vực",
}

# Readings of the parts of a document symbol ("06/KH-UBND", "05-CT/TW", "01/2023/TT-BNV").
# Inside a symbol the letters name a document type or an issuing body.
SYMBOL_PARTS: dict[str, str] = {
    "KH": "kế hoạch", "QĐ": "quyết định", "NQ": "nghị quyết", "CT": "chỉ thị",
    "TT": "thông tư", "TTLT": "thông tư liên tịch", "NĐ": "nghị định", "TB": "thông báo",
    "BC": "báo cáo", "CV": "công văn", "HD": "hướng dẫn", "KL": "kết luận", "QC": "quy chế",
    "QY": "quy định", "QyĐ": "quy định", "QĐi": "quy định", "CTr": "chương trình",
    "TTr": "tờ trình", "GM": "giấy mời", "GP": "giấy phép", "BB": "biên bản", "ĐA": "đề án",
    "HU": "huyện ủy", "TU": "tỉnh ủy", "ĐU": "đảng ủy", "QU": "quận ủy",
    "ThU": "thành ủy", "TW": "trung ương", "TƯ": "trung ương", "CP": "chính phủ",
    "TTg": "thủ tướng chính phủ", "VPCP": "văn phòng chính phủ", "BTV": "ban thường vụ",
    "BTGTU": "ban tuyên giáo tỉnh ủy", "BTG": "ban tuyên giáo", "BDV": "ban dân vận",
    "UBTVQH": "ủy ban thường vụ quốc hội", "QH": "quốc hội", "L": "luật", "PL": "pháp lệnh",
    "SNV": "sở nội vụ", "STC": "sở tài chính", "SYT": "sở y tế", "STTTT": "sở thông tin và truyền thông",
    "SGDĐT": "sở giáo dục và đào tạo", "CAT": "công an tỉnh", "CAH": "công an huyện",
    "CAX": "công an xã", "BCĐ": "ban chỉ đạo", "PNV": "phòng nội vụ", "TCKH": "tài chính kế hoạch",
}

# Words written in capitals that are read as words, not letter by letter.
WORDS: dict[str, str] = {
    "ISO": "i xô", "PAR": "pa", "INDEX": "in đéc", "PAPI": "pa pi", "SIPAS": "si pát",
    "COVID": "cô vít", "Covid": "cô vít", "covid": "cô vít", "SARS": "sát", "OCOP": "ô cốp",
    "ASEAN": "a xê an", "UNESCO": "u nét xcô", "UNICEF": "u ni xép", "WHO": "vê kép hát o",
    "WIFI": "oai phai", "Wifi": "oai phai", "wifi": "oai phai", "Zalo": "da lô", "zalo": "da lô",
    "ZALO": "da lô", "Facebook": "phây búc", "facebook": "phây búc", "FACEBOOK": "phây búc",
    "YouTube": "diu túp", "Youtube": "diu túp", "youtube": "diu túp", "TikTok": "tích tóc",
    "Tiktok": "tích tóc", "online": "onlai", "Online": "onlai", "ONLINE": "onlai",
    "VNeID": "vê en e i đi", "VNEID": "vê en e i đi", "email": "i meo", "Email": "i meo",
    "Hotline": "hót lai", "hotline": "hót lai", "HOTLINE": "hót lai", "Internet": "in tơ nét", "internet": "in tơ nét", "website": "oép sai", "Website": "oép sai",
}

# Units read after a number. Keys are exact written forms (case matters: "m" metre, "M" not).
UNITS: dict[str, str] = {
    "km/h": "ki lô mét trên giờ", "km/giờ": "ki lô mét trên giờ", "m/s": "mét trên giây",
    "km²": "ki lô mét vuông", "km2": "ki lô mét vuông", "m²": "mét vuông", "m2": "mét vuông",
    "m³": "mét khối", "m3": "mét khối", "cm²": "xăng ti mét vuông", "cm2": "xăng ti mét vuông",
    "km": "ki lô mét", "m": "mét", "cm": "xăng ti mét", "mm": "mi li mét", "ha": "héc ta",
    "kg": "ki lô gam", "g": "gam", "mg": "mi li gam", "l": "lít", "ml": "mi li lít",
    "°C": "độ xê", "ºC": "độ xê", "oC": "độ xê", "°": "độ", "kV": "ki lô vôn", "V": "vôn",
    "kW": "ki lô oát", "kWh": "ki lô oát giờ", "MW": "mê ga oát", "W": "oát", "kVA": "ki lô vôn am pe",
    "đ": "đồng", "VNĐ": "đồng", "VND": "đồng", "USD": "đô la mỹ", "%": "phần trăm",
    "h": "giờ", "p": "phút", "ph": "phút", "s": "giây", "Hz": "héc",
    "MHz": "mê ga héc", "GB": "gi ga bai", "MB": "mê ga bai",
    # Units written in full: listed so "tạ/ha" and "đồng/người" read their "/" as "trên".
    "tạ": "tạ", "tấn": "tấn", "yến": "yến", "đồng": "đồng", "lít": "lít", "mét": "mét",
    "cân": "cân", "sào": "sào", "mẫu": "mẫu", "ki lô gam": "ki lô gam", "nghìn đồng": "nghìn đồng",
    "triệu đồng": "triệu đồng", "tỷ đồng": "tỷ đồng", "nghìn": "nghìn", "triệu": "triệu", "tỷ": "tỷ",
}

# Units that must touch their number ("220V", "7h"); with a space they are more likely words.
TIGHT_UNITS = frozenset({"V", "W", "h", "p", "ph", "s", "g", "l", "°"})

# Vietnamese names of letters, for spelling an acronym nobody has taught us.
LETTERS: dict[str, str] = {
    "A": "a", "Ă": "á", "Â": "ớ", "B": "bê", "C": "xê", "D": "dê", "Đ": "đê", "E": "e", "Ê": "ê",
    "F": "ép", "G": "gờ", "H": "hát", "I": "i", "J": "gi", "K": "ca", "L": "lờ", "M": "mờ",
    "N": "nờ", "O": "o", "Ô": "ô", "Ơ": "ơ", "P": "pê", "Q": "qui", "R": "rờ", "S": "ét",
    "T": "tê", "U": "u", "Ư": "ư", "V": "vê", "W": "vê kép", "X": "ích", "Y": "i dài", "Z": "dét",
}


def spell(token: str) -> str:
    """Letter by letter, for an unknown acronym: "XYZ" -> "ích i dài dét"."""
    words = []
    for ch in token.upper():
        if ch in LETTERS:
            words.append(LETTERS[ch])
        elif ch.isdecimal():
            words.append(DIGITS[int(ch)])
    return " ".join(words)


_TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}
_SYLLABLE = re.compile(
    r"(?:ngh|ng|gh|gi|kh|nh|ph|qu|th|tr|ch|[bcdđghklmnprstvx])?"
    r"(?:[aăâeêioôơuưy]{1,3})"
    r"(?:ch|ng|nh|[cmnptiyou])?"
)


def _strip_tones(word: str) -> str:
    decomposed = unicodedata.normalize("NFD", word.lower())
    kept = "".join(c for c in decomposed if c not in _TONES)
    return unicodedata.normalize("NFC", kept)


@lru_cache(maxsize=4096)
def is_vietnamese_syllable(word: str) -> bool:
    """Whether `word` is shaped like one Vietnamese syllable (so "HOẠCH" is a word, "UBND" is not)."""
    return bool(_SYLLABLE.fullmatch(_strip_tones(word)))
