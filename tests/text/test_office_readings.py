"""What commune notices write, read as an announcer would: an exact table, input -> spoken form.

Collected by reading real notices of the kinds a commune station airs (power cuts, vaccination,
elections, military call-up, land, insurance, weather, money, phone numbers and hotlines). The
phrases are new text, not the shared test set; `tests/text/test_cases.py` keeps that one at 100%.
"""

import pytest

from tests.text.conftest import spoken_words

READINGS = [
    # numbers and money
    ("space_thousands", "Hỗ trợ 1 000 000 đồng", "hỗ trợ một triệu đồng"),
    ("space_thousands_money", "Giá 25 000 đ/kg", "giá hai mươi lăm nghìn đồng trên ki lô gam"),
    ("space_thousands_people", "Có 3 500 người tham gia", "có ba nghìn năm trăm người tham gia"),
    ("space_thousands_round", "Thu 2 500 000 mỗi hộ", "thu hai triệu năm trăm nghìn mỗi hộ"),
    ("money_d", "Lệ phí 500.000đ", "lệ phí năm trăm nghìn đồng"),
    ("money_decimal_million", "Hỗ trợ 2,5 triệu đồng/người", "hỗ trợ hai phẩy năm triệu đồng trên người"),
    ("money_billion", "Tổng kinh phí 1,2 tỷ đồng", "tổng kinh phí một phẩy hai tỷ đồng"),
    ("percent_decimal", "Tỷ lệ bao phủ BHYT đạt 95,5%", "tỷ lệ bao phủ bảo hiểm y tế đạt chín mươi lăm phẩy năm phần trăm"),
    # times and days
    ("time_g", "Tập trung lúc 6g30 sáng", "tập trung lúc sáu giờ ba mươi phút sáng"),
    ("grams_stay_grams", "Mỗi người 500g gạo", "mỗi người năm trăm gam gạo"),
    ("power_cut_window", "Mất điện từ 7h30 đến 16h00 ngày 12/3",
     "mất điện từ bảy giờ ba mươi phút đến mười sáu giờ ngày mười hai tháng ba"),
    ("time_range_dash", "Cắt điện 8h-11h30", "cắt điện tám giờ đến mười một giờ ba mươi phút"),
    ("weekday_t7", "Tiêm vào sáng T7", "tiêm vào sáng thứ bảy"),
    ("weekday_cn", "Nghỉ CN", "nghỉ chủ nhật"),
    ("weekday_range", "Làm việc T2-T6", "làm việc thứ hai đến thứ sáu"),
    ("weekday_range_spaced", "Tiếp dân T2 - T7", "tiếp dân thứ hai đến thứ bảy"),
    ("weekday_pair", "Trực T7, CN", "trực thứ bảy chủ nhật"),
    ("weekday_words", "Từ T2 đến CN", "từ thứ hai đến chủ nhật"),
    ("industrial_zone", "Công nhân khu CN Đình Vũ", "công nhân khu công nghiệp đình vũ"),
    # phones and hotlines
    ("phone_area_dot", "Điện thoại 0228.3812345", "điện thoại không hai hai tám ba tám một hai ba bốn năm"),
    ("phone_area_brackets", "Liên hệ (0228) 3812345", "liên hệ không hai hai tám ba tám một hai ba bốn năm"),
    ("phone_area_hanoi", "Liên hệ (024) 38123456", "liên hệ không hai bốn ba tám một hai ba bốn năm sáu"),
    ("phone_groups", "Số máy 0228 3812 345", "số máy không hai hai tám ba tám một hai ba bốn năm"),
    ("hotline_1800", "Tổng đài 1800 1234 miễn phí", "tổng đài một tám không không một hai ba bốn miễn phí"),
    ("hotline_1900", "Gọi 1900 9095", "gọi một chín không không chín không chín năm"),
    ("hotline_solid", "Gọi 18001234", "gọi một tám không không một hai ba bốn"),
    ("emergency_list", "Gọi 113, 114, 115", "gọi một một ba một một bốn một một năm"),
    ("emergency_list_and", "Các số khẩn cấp 113, 114 và 115",
     "các số khẩn cấp một một ba một một bốn và một một năm"),
    ("emergency_fire", "Khi có cháy gọi ngay 114", "khi có cháy gọi ngay một một bốn"),
    ("count_stays_count", "Thôn có 115 hộ", "thôn có một trăm mười lăm hộ"),
    # numbers with a letter
    ("house_number", "Số nhà 1A", "số nhà một a"),
    ("school_class", "Học sinh lớp 12B", "học sinh lớp mười hai bê"),
    ("school_class_digit", "Lớp 10A1", "lớp mười a một"),
    ("network", "Phủ sóng 4G", "phủ sóng bốn gờ"),
    ("volts_stay_units", "Điện áp 220V", "điện áp hai trăm hai mươi vôn"),
    # power
    ("tba", "Bảo dưỡng TBA Đông 1", "bảo dưỡng trạm biến áp đông một"),
    ("mba", "Thay MBA 250kVA", "thay máy biến áp hai trăm năm mươi ki lô vôn am pe"),
    ("dz", "Sửa chữa ĐZ 35kV", "sửa chữa đường dây ba mươi lăm ki lô vôn"),
    # vaccination and health
    ("tcmr", "Tiêm chủng TCMR cho trẻ 9-12 tháng tuổi tại TYT xã",
     "tiêm chủng tiêm chủng mở rộng cho trẻ chín đến mười hai tháng tuổi tại trạm y tế xã"),
    ("vaccine_dose", "Tiêm mũi 3 vắc xin Covid-19", "tiêm mũi ba vắc xin cô vít mười chín"),
    # elections
    ("election", "Bầu cử ĐBQH và đại biểu HĐND các cấp", "bầu cử đại biểu quốc hội và đại biểu hội đồng nhân dân các cấp"),
    ("election_bodies", "UBBC xã, TBC số 3", "ủy ban bầu cử xã tổ bầu cử số ba"),
    # military call-up
    ("nvqs", "Khám sức khỏe NVQS năm 2025", "khám sức khỏe nghĩa vụ quân sự năm hai nghìn không trăm hai mươi lăm"),
    ("dk_nvqs", "Công dân nam đủ 17 tuổi ĐKNVQS lần đầu",
     "công dân nam đủ mười bảy tuổi đăng ký nghĩa vụ quân sự lần đầu"),
    # land and insurance
    ("land", "Cấp GCNQSDĐ cho 25 hộ", "cấp giấy chứng nhận quyền sử dụng đất cho hai mươi lăm hộ"),
    ("insurance", "Gia hạn BHYT, BHXH tự nguyện", "gia hạn bảo hiểm y tế bảo hiểm xã hội tự nguyện"),
    # weather
    ("wind_levels", "Gió mạnh cấp 8, giật cấp 10", "gió mạnh cấp tám giật cấp mười"),
    ("rain_mm", "Lượng mưa 100-150mm", "lượng mưa một trăm đến một trăm năm mươi mi li mét"),
    ("wind_speed", "Sức gió 60-75 km/h", "sức gió sáu mươi đến bảy mươi lăm ki lô mét trên giờ"),
    ("temperature_range", "Nhiệt độ thấp nhất 12-15°C", "nhiệt độ thấp nhất mười hai đến mười lăm độ xê"),
    ("atnd", "ATNĐ trên Biển Đông", "áp thấp nhiệt đới trên biển đông"),
    ("pctt", "Ban chỉ huy PCTT và TKCN xã", "ban chỉ huy phòng chống thiên tai và tìm kiếm cứu nạn xã"),
    # roads
    ("road", "Đoạn QL10 qua xã", "đoạn quốc lộ mười qua xã"),
    # how often
    ("per_week", "Phun khử trùng 3 lần/tuần", "phun khử trùng ba lần một tuần"),
    ("per_day", "Uống 2 viên/ngày", "uống hai viên một ngày"),
    ("hotline_word", "Hotline: 0912 345 678", "hót lai không chín một hai ba bốn năm sáu bảy tám"),
]


@pytest.mark.parametrize("text, expected", [r[1:] for r in READINGS], ids=[r[0] for r in READINGS])
def test_office_reading(normalizer, text, expected):
    assert spoken_words(normalizer.normalize(text)) == expected


@pytest.mark.parametrize("text, token", [
    ("Mở cửa CN", "CN"),                 # Sunday most likely, but nothing around it says so
    ("Xem 1/2 trang", "1/2"),
], ids=["lone_cn", "date_or_fraction"])
def test_what_stays_doubtful_is_listed(normalizer, text, token):
    assert [f.token for f in normalizer.check(text)] == [token]


@pytest.mark.parametrize("text", [r[1] for r in READINGS], ids=[r[0] for r in READINGS])
def test_office_readings_leave_nothing_doubtful(normalizer, text):
    assert normalizer.check(text) == []
