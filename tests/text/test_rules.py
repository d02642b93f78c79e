"""Each rule of the normalizer on phrases written the way commune bulletins write them.

These phrases are not from the shared test set; they check the same conventions on new text.
"""

import pytest

from broadcaster.text import Finding, Normalizer
from tests.text.conftest import spoken_words

READINGS = [
    # numbers, thousands separators, decimals
    ("plain", "Thôn có 45 hộ", "thôn có bốn mươi lăm hộ"),
    ("thousands", "Tổng 3.456.789 người", "tổng ba triệu bốn trăm năm mươi sáu nghìn bảy trăm tám mươi chín người"),
    ("decimal_comma", "Tăng 17,5 lần", "tăng mười bảy phẩy năm lần"),
    ("decimal_thousands", "Đạt 1.234,5 tấn", "đạt một nghìn hai trăm ba mươi tư phẩy năm tấn"),
    ("leading_zero", "Mã số 07", "mã số không bảy"),
    ("ordinal_4", "Đứng thứ 4", "đứng thứ tư"),
    ("ordinal_weekday", "Sáng thứ 7 tuần này", "sáng thứ bảy tuần này"),
    # dates
    ("dmy", "Hạn cuối 31/12/2024.", "hạn cuối ngày ba mươi mốt tháng mười hai năm hai nghìn không trăm hai mươi tư"),
    ("dmy_dots", "ngày 02.9.2025", "ngày mồng hai tháng chín năm hai nghìn không trăm hai mươi lăm"),
    ("dm", "Từ ngày 27/3", "từ ngày hai mươi bảy tháng ba"),
    ("my", "Quý này, tháng 4/2024", "quý này tháng tư năm hai nghìn không trăm hai mươi tư"),
    ("my_bare", "Kỳ 06/2024", "kỳ tháng sáu năm hai nghìn không trăm hai mươi tư"),
    ("day_list", "Tiêm vào ngày 10 và 11/3/2024",
     "tiêm vào ngày mồng mười và mười một tháng ba năm hai nghìn không trăm hai mươi tư"),
    ("day_range", "Nghỉ ngày 30/4-1/5", "nghỉ ngày ba mươi tháng tư đến ngày mồng một tháng năm"),
    ("day_span", "từ ngày 10-12/3", "từ ngày mồng mười đến mười hai tháng ba"),
    ("written_date", "ngày 05 tháng 4 năm 2024", "ngày mồng năm tháng tư năm hai nghìn không trăm hai mươi tư"),
    ("fraction", "Chiếm 2/3 số hộ", "chiếm hai phần ba số hộ"),
    ("fraction_about", "khoảng 1/4 diện tích", "khoảng một phần tư diện tích"),
    ("date_after_sang", "Sáng 1/3 họp", "sáng ngày mồng một tháng ba họp"),
    # times
    ("time_h", "Lúc 7h", "lúc bảy giờ"),
    ("time_h00", "Lúc 7h00", "lúc bảy giờ"),
    ("time_hm", "Đến 16h30", "đến mười sáu giờ ba mươi phút"),
    ("time_colon", "Lúc 13:45", "lúc mười ba giờ bốn mươi lăm phút"),
    ("time_words", "13 giờ tập trung", "mười ba giờ tập trung"),
    ("time_words_minutes", "Lúc 7 giờ 05 phút", "lúc bảy giờ năm phút"),
    ("time_range", "Từ 7h-11h", "từ bảy giờ đến mười một giờ"),
    # ranges
    ("range_years", "Giai đoạn 2026 - 2030", "giai đoạn hai nghìn không trăm hai mươi sáu đến hai nghìn không trăm ba mươi"),
    ("range_km", "Dài 15-20km", "dài mười lăm đến hai mươi ki lô mét"),
    ("range_speed", "Gió cấp 12 (118-133km/h)",
     "gió cấp mười hai một trăm mười tám đến một trăm ba mươi ba ki lô mét trên giờ"),
    # percent, money
    ("percent", "Đạt 95%", "đạt chín mươi lăm phần trăm"),
    ("money_dong", "Thu 200.000 đồng/hộ", "thu hai trăm nghìn đồng trên hộ"),
    ("money_d", "Giá 35.000đ/kg", "giá ba mươi lăm nghìn đồng trên ki lô gam"),
    ("money_million", "Hỗ trợ 3 triệu/tháng", "hỗ trợ ba triệu trên tháng"),
    ("money_billion", "Vốn 1,2 tỷ đồng", "vốn một phẩy hai tỷ đồng"),
    ("money_vnd", "Giá 50.000 VNĐ", "giá năm mươi nghìn đồng"),
    # units
    ("kv", "Đường dây 22kV", "đường dây hai mươi hai ki lô vôn"),
    ("m_sup2", "Nhà 45 m²", "nhà bốn mươi lăm mét vuông"),
    ("tan", "Thu 12 tấn", "thu mười hai tấn"),
    ("celsius", "Trời rét 2°C", "trời rét hai độ xê"),
    ("negative_celsius", "Có nơi -2°C", "có nơi âm hai độ xê"),
    ("per_unit", "Đạt 60 tạ/ha", "đạt sáu mươi tạ trên héc ta"),
    ("kg_space", "Cấp 10 kg gạo", "cấp mười ki lô gam gạo"),
    # phones
    ("phone_dots", "Gọi 0225.3883.456", "gọi không hai hai năm ba tám tám ba bốn năm sáu"),
    ("phone_solid", "SĐT 0987654321", "số điện thoại không chín tám bảy sáu năm bốn ba hai một"),
    ("phone_intl", "Gọi +84 912 345 678", "gọi cộng tám bốn chín một hai ba bốn năm sáu bảy tám"),
    ("hotline_short", "Khi có cháy gọi 114", "khi có cháy gọi một một bốn"),
    # document symbols
    ("doc_hu", "Kế hoạch số 28-KH/HU", "kế hoạch số hai mươi tám gạch kế hoạch trên huyện ủy"),
    ("doc_nd", "Nghị định số 13/2023/NĐ-CP",
     "nghị định số mười ba trên hai nghìn không trăm hai mươi ba trên nghị định gạch chính phủ"),
    ("doc_tt_bldtbxh", "Thông tư 02/2024/TT-BLĐTBXH",
     "thông tư không hai trên hai nghìn không trăm hai mươi tư trên thông tư gạch bộ lao động thương binh và xã hội"),
    ("doc_kl", "Kết luận số 12-KL/TW", "kết luận số mười hai gạch kết luận trên trung ương"),
    ("doc_luat", "Luật số 59/2020/QH14", "luật số năm mươi chín trên hai nghìn không trăm hai mươi trên quốc hội mười bốn"),
    ("doc_blank_number", "Số: /KH- UBND", "số kế hoạch gạch ủy ban nhân dân"),
    # Roman numerals
    ("heading_roman", "III. KẾT LUẬN", "phần ba kết luận"),
    ("roman_khoa", "Đại hội khóa XXI", "đại hội khóa hai mươi mốt"),
    ("roman_quy", "Quý III/2024", "quý ba năm hai nghìn không trăm hai mươi tư"),
    ("roman_century", "Thế kỷ XXI", "thế kỷ hai mươi mốt"),
    ("heading_number", "2.1. Nội dung", "hai chấm một nội dung"),
    # abbreviations and their senses
    ("ct_title", "Ý kiến của CT UBND xã", "ý kiến của chủ tịch ủy ban nhân dân xã"),
    ("ct_directive", "Thực hiện CT số 05", "thực hiện chỉ thị số không năm"),
    ("tt_standing", "TT HĐND xã", "thường trực hội đồng nhân dân xã"),
    ("tt_town", "Chợ TT Vĩnh Bảo", "chợ thị trấn vĩnh bảo"),
    ("tt_circular", "Theo TT số 10", "theo thông tư số mười"),
    ("tu_outside_symbol", "Ban Thường vụ TU", "ban thường vụ tỉnh ủy"),
    ("gd_dt", "Phòng NN&PTNT", "phòng nông nghiệp và phát triển nông thôn"),
    ("hcm", "Tư tưởng HCM", "tư tưởng hồ chí minh"),
    ("dc", "Đ/c Bí thư", "đồng chí bí thư"),
    ("lhpn_tdp", "Hội LHPN các TDP", "hội liên hiệp phụ nữ các tổ dân phố"),
    ("signature", "TM. ỦY BAN NHÂN DÂN", "thay mặt ủy ban nhân dân"),
    ("caps_heading_keeps_words", "HỘI NGHỊ TU SỬA ĐÊ", "hội nghị tu sửa đê"),
    ("covid", "Phòng dịch Covid-19", "phòng dịch cô vít mười chín"),
    ("url", "Xem tại vinhquang.gov.vn", "xem tại vinhquang chấm gốp chấm vê en"),
]


@pytest.mark.parametrize("text, expected", [r[1:] for r in READINGS], ids=[r[0] for r in READINGS])
def test_reading(normalizer, text, expected):
    assert spoken_words(normalizer.normalize(text)) == expected


def test_lines_are_kept_one_for_one(normalizer):
    text = "Dòng một 1\n\n- Dòng ba 3\r\nDòng bốn: UBND\n"
    out = normalizer.normalize(text)
    assert out.split("\n") == ["Dòng một một", "", "Dòng ba ba", "Dòng bốn: ủy ban nhân dân", ""]


def test_sentence_punctuation_is_kept_and_symbols_removed(normalizer):
    out = normalizer.normalize("**Thông báo**: họp lúc 7h30; mang CCCD, BHYT! Hết./.")
    assert out == "Thông báo: họp lúc bảy giờ ba mươi phút; mang căn cước công dân, bảo hiểm y tế! Hết."
    assert not set(out) & set("/*-•")


def test_brackets_become_pauses(normalizer):
    assert normalizer.normalize("Chỉ số (PAPI) năm nay") == "Chỉ số, pa pi, năm nay"


def test_ordinary_words_keep_their_case(normalizer):
    assert normalizer.normalize("Xã Vinh Quang, huyện Tiên Lãng") == "Xã Vinh Quang, huyện Tiên Lãng"


def test_overrides_win_over_defaults_everywhere():
    n = Normalizer({"VQ": "Vinh Quang", "TU": "thành ủy", "PCT": "phó chủ tịch thường trực",
                    "Tiên Lãng": "Tiên Lãnggg"})
    out = n.normalize("UBND xã VQ, PCT. Nghị quyết 03-NQ/TU, huyện Tiên Lãng")
    assert out == ("ủy ban nhân dân xã Vinh Quang, phó chủ tịch thường trực. Nghị quyết không ba gạch nghị quyết "
                   "trên thành ủy, huyện Tiên Lãnggg")


def test_defaults_are_untouched_by_another_normalizers_overrides():
    Normalizer({"UBND": "ủy ban"})
    assert Normalizer().normalize("UBND") == "ủy ban nhân dân"


def test_check_reports_unknown_acronym_at_its_column(normalizer):
    findings = normalizer.check("Dòng đầu ổn.\nGặp đ/c ở XYZQ hôm nay")
    assert [(f.line, f.column, f.token) for f in findings] == [(2, 11, "XYZQ")]
    assert isinstance(findings[0], Finding)


def test_check_reports_odd_symbols_slashes_and_ambiguous_fractions(normalizer):
    findings = normalizer.check("Mục #3 nam/nữ\n1/2 ha")
    assert [(f.line, f.column, f.token) for f in findings] == [(1, 5, "#"), (1, 11, "nam/nữ"), (2, 1, "1/2")]


def test_check_reports_an_unknown_part_of_a_document_symbol(normalizer):
    findings = normalizer.check("Văn bản số 12/QĐ-XYZW")
    assert [(f.column, f.token) for f in findings] == [(18, "XYZW")]


def test_check_is_quiet_on_readable_text(normalizer):
    assert normalizer.check("UBND xã thông báo: ngày 5/9/2024 lúc 7h30 tiêm phòng, lệ phí 50.000đ/con.") == []


def test_findings_follow_the_language(normalizer, english):
    (finding,) = normalizer.check("XYZQ")
    assert "unknown abbreviation" in finding.reason


def test_unknown_acronym_is_spelled_not_dropped(normalizer):
    assert normalizer.normalize("Dự án XYZ") == "Dự án ích i dài dét"


@pytest.mark.parametrize("text, expected", [
    ("Đạt 1.532/1.600 hộ", "đạt một nghìn năm trăm ba mươi hai trên một nghìn sáu trăm hộ"),
    ("Đạt 19/19 tiêu chí", "đạt mười chín trên mười chín tiêu chí"),
    ("Chiếm 3/4 diện tích", "chiếm ba phần tư diện tích"),
], ids=["thousands_ratio", "count_of_total", "quarter"])
def test_ratios_and_fractions(normalizer, text, expected):
    assert spoken_words(normalizer.normalize(text)) == expected


def test_odd_number_shape_is_read_and_reported(normalizer):
    assert normalizer.normalize("Mã 1.2.3.4") == "Mã một chấm hai chấm ba chấm bốn"
    assert [(f.column, f.token) for f in normalizer.check("Mã 1.2.3.4")] == [(4, "1.2.3.4")]


def test_no_digit_survives_any_shape(normalizer):
    """Whatever way digits and separators are glued together, the engine never sees a digit."""
    import random
    rng = random.Random(20240517)
    pieces = ["0", "7", "12", "2023", "1.250", "31", "/", "-", "–", ".", ",", ":", "h", "km", "km/h", "%",
              "°C", "°", " ", "KH", "UBND", "x", "ngày ", "thứ ", "(", "IV", "+84", "0912", "&", "đ", "m2",
              "²", "½", "١"]
    for _ in range(3000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 8)))
        out = normalizer.normalize(text)
        assert not any(c.isdigit() for c in out) and "/" not in out, (text, out)
        normalizer.check(text)


def test_decomposed_diacritics_and_a_bom_read_as_composed_text(normalizer):
    import unicodedata

    composed = "Thông báo của Ủy ban nhân dân xã về việc tiêm phòng."
    decomposed = "\ufeff" + unicodedata.normalize("NFD", composed)
    assert normalizer.normalize(decomposed) == composed
    assert normalizer.check(decomposed) == []


@pytest.mark.parametrize("dash", ["-", "–", "—", "‒", "−"], ids=["hyphen", "en", "em", "figure", "minus"])
def test_every_dash_between_years_reads_den(normalizer, dash):
    assert normalizer.normalize(f"giai đoạn 2021{dash}2025") == (
        "giai đoạn hai nghìn không trăm hai mươi mốt đến hai nghìn không trăm hai mươi lăm")
