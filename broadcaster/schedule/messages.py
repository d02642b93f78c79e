"""Operator messages for schedule problems, Vietnamese first, English second."""

from broadcaster import i18n

i18n.register({
    "desk.listen_invalid": (
        "địa chỉ bàn điều khiển '{value}' không hợp lệ; viết dạng MÁY:CỔNG, ví dụ 127.0.0.1:8080",
        "desk address '{value}' is not valid; write HOST:PORT, e.g. 127.0.0.1:8080"),
    "schedule.not_found": (
        "không tìm thấy tệp lịch phát", "schedule file not found"),
    "schedule.unreadable": (
        "không đọc được tệp: {detail}", "cannot read the file: {detail}"),
    "yaml.syntax": (
        "lỗi cú pháp YAML: {detail}", "YAML syntax error: {detail}"),
    "yaml.duplicate_key": (
        "khóa '{key}' bị lặp lại (lần đầu ở dòng {first_line})",
        "key '{key}' appears twice (first at line {first_line})"),
    "key.unknown": (
        "khóa không hợp lệ '{key}' trong {section}{hint}",
        "unknown key '{key}' in {section}{hint}"),
    "key.hint": (" (có phải ý bạn là '{suggestion}'?)", " (did you mean '{suggestion}'?)"),
    "key.missing": (
        "thiếu khóa bắt buộc '{key}' trong {section}", "missing required key '{key}' in {section}"),
    "type.mapping": (
        "'{key}' phải là một nhóm khóa: giá trị", "'{key}' must be a mapping of key: value"),
    "type.list": ("'{key}' phải là một danh sách", "'{key}' must be a list"),
    "type.string": ("'{key}' phải là chữ", "'{key}' must be text"),
    "type.number": ("'{key}' phải là một số", "'{key}' must be a number"),
    "type.integer": ("'{key}' phải là số nguyên", "'{key}' must be a whole number"),
    "type.bool": ("'{key}' phải là true hoặc false", "'{key}' must be true or false"),
    "number.range": (
        "'{key}' phải nằm trong khoảng {low} đến {high} (đang là {value})",
        "'{key}' must be between {low} and {high} (it is {value})"),
    "choice.invalid": (
        "'{key}' không hợp lệ: '{value}'; chọn một trong: {choices}",
        "invalid '{key}': '{value}'; choose one of: {choices}"),
    "timezone.invalid": (
        "múi giờ không hợp lệ '{value}' (ví dụ: Asia/Ho_Chi_Minh)",
        "invalid time zone '{value}' (for example Asia/Ho_Chi_Minh)"),
    "time.invalid": (
        "giờ không hợp lệ '{value}': viết HH:MM hoặc HH:MM:SS, từ 00:00 đến 23:59:59",
        "invalid time '{value}': write HH:MM or HH:MM:SS, from 00:00 to 23:59:59"),
    "time.duplicate": (
        "giờ '{value}' được ghi hai lần", "time '{value}' is listed twice"),
    "day.unknown": (
        "thứ không hợp lệ '{value}': dùng t2 t3 t4 t5 t6 t7 cn hoặc mon tue wed thu fri sat sun",
        "unknown weekday '{value}': use mon tue wed thu fri sat sun or t2 t3 t4 t5 t6 t7 cn"),
    "date.invalid": (
        "ngày không hợp lệ '{value}': viết YYYY-MM-DD, ví dụ 2023-01-16",
        "invalid date '{value}': write YYYY-MM-DD, for example 2023-01-16"),
    "range.invalid": (
        "khoảng ngày không hợp lệ '{value}': viết YYYY-MM-DD..YYYY-MM-DD",
        "invalid date range '{value}': write YYYY-MM-DD..YYYY-MM-DD"),
    "range.reversed": (
        "khoảng ngày '{value}' có ngày cuối trước ngày đầu",
        "date range '{value}' ends before it starts"),
    "window.reversed": (
        "'until' ({until}) đứng trước 'from' ({start}): khung giờ sẽ không bao giờ phát",
        "'until' ({until}) is before 'from' ({start}): the slot would never air"),
    "slot.days_and_dates": (
        "khung giờ '{slot}' có cả 'days' và 'dates': chỉ dùng một trong hai",
        "slot '{slot}' has both 'days' and 'dates': use one or the other"),
    "slot.duplicate_name": (
        "tên khung giờ '{slot}' bị trùng (đã dùng ở dòng {first_line})",
        "slot name '{slot}' is used twice (first at line {first_line})"),
    "slot.unknown_bulletin": (
        "khung giờ '{slot}' phát bản tin không có trong 'bulletins': '{bulletin}'{hint}",
        "slot '{slot}' plays a bulletin that is not in 'bulletins': '{bulletin}'{hint}"),
    "slot.empty_play": (
        "khung giờ '{slot}' không có bản tin nào để phát", "slot '{slot}' has no bulletins to play"),
    "slot.empty_at": (
        "khung giờ '{slot}' chưa có giờ phát ('at')", "slot '{slot}' has no air time ('at')"),
    "slot.no_days": (
        "khung giờ '{slot}' có 'days' trống: sẽ không bao giờ phát (bỏ 'days' để phát mỗi ngày)",
        "slot '{slot}' has empty 'days': it would never air (leave 'days' out for every day)"),
    "slot.no_dates": (
        "khung giờ '{slot}' có 'dates' trống: ghi ngày phát hoặc bỏ 'dates'",
        "slot '{slot}' has empty 'dates': list the dates or leave 'dates' out"),
    "slot.overlap": (
        "khung giờ '{first}' và '{second}' phát chồng lên nhau, ví dụ lúc {when}",
        "slots '{first}' and '{second}' overlap, for example at {when}"),
    "slot.never": (
        "khung giờ '{slot}' không có buổi phát nào (kiểm tra from/until/except)",
        "slot '{slot}' never airs (check from/until/except)"),
    "slot.lunar_and_days": (
        "khung giờ '{slot}' có cả 'lunar' và '{key}': ngày âm lịch thay cho '{key}', chỉ dùng một",
        "slot '{slot}' has both 'lunar' and '{key}': lunar days replace '{key}', use one"),
    "slot.lunar_months_alone": (
        "khung giờ '{slot}' có 'lunar_months' mà không có 'lunar' (ví dụ lunar: [1, 15])",
        "slot '{slot}' has 'lunar_months' without 'lunar' (for example lunar: [1, 15])"),
    "slot.empty_lunar": (
        "khung giờ '{slot}' có '{key}' trống", "slot '{slot}' has an empty '{key}'"),
    "bulletin.id_invalid": (
        "mã bản tin '{value}' chỉ được dùng chữ không dấu, số, '-', '_' và '.'",
        "bulletin id '{value}' may only use letters without accents, digits, '-', '_' and '.'"),
    "bulletin.source": (
        "bản tin '{bulletin}' cần đúng một trong 'text', 'text_file', 'audio', 'relay'",
        "bulletin '{bulletin}' needs exactly one of 'text', 'text_file', 'audio', 'relay'"),
    "bulletin.empty_text": (
        "bản tin '{bulletin}' không có nội dung", "bulletin '{bulletin}' has no text"),
    "bulletin.unknown_jingle": (
        "nhạc hiệu '{value}' chưa được khai báo trong station.jingles{hint}",
        "jingle '{value}' is not declared in station.jingles{hint}"),
    "bulletins.empty": (
        "chưa có bản tin nào trong 'bulletins'", "there are no bulletins in 'bulletins'"),
    "file.missing": (
        "không tìm thấy tệp '{value}' (tính từ thư mục của lịch phát)",
        "file '{value}' not found (paths are relative to the schedule's folder)"),
    "file.outside": (
        "tệp '{value}' nằm ngoài thư mục của lịch phát: hãy chép nó vào thư mục này",
        "file '{value}' is outside the schedule's folder: copy it into that folder"),
    "file.unreadable": (
        "không đọc được tệp '{value}': {detail}", "cannot read file '{value}': {detail}"),
    "file.not_text": (
        "tệp '{value}' không phải văn bản UTF-8", "file '{value}' is not UTF-8 text"),
    "output.invalid": (
        "thiết bị phát '{value}' không hợp lệ: dùng 'default', tên hoặc số thiết bị, hoặc 'file:THƯ_MỤC'",
        "invalid output '{value}': use 'default', a device name or number, or 'file:DIR'"),
    "listen.invalid": (
        "'{value}' không phải địa chỉ nghe dạng HOST:CỔNG (ví dụ 127.0.0.1:9108)",
        "'{value}' is not a listen address HOST:PORT (for example 127.0.0.1:9108)"),
    "engine.unknown": (
        "bộ đọc '{value}' không có; chọn trong: {choices}",
        "unknown speech engine '{value}'; choose from: {choices}"),
    "section.station": ("station", "station"),
    "section.speech": ("station.speech", "station.speech"),
    "section.programme": ("station.programme", "station.programme"),
    "section.metrics": ("station.metrics", "station.metrics"),
    "section.top": ("tệp lịch phát", "the schedule file"),
    "section.bulletin": ("bản tin '{name}'", "bulletin '{name}'"),
    "section.slot": ("khung giờ '{name}'", "slot '{name}'"),
})
