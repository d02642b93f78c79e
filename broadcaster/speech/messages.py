"""Operator messages of the speech stage, in Vietnamese and English (see `broadcaster.i18n`)."""

from broadcaster import i18n

i18n.register({
    "voice.engine.gtts": ("giọng Google (gTTS)", "Google's voice (gTTS)"),
    "voice.engine.espeak-ng": ("giọng máy eSpeak NG (không cần mạng)", "eSpeak NG, the offline voice"),
    "voice.ready": ("{engine}, đã dựng sẵn", "{engine}, rendered"),
    "voice.pending": ("{engine}, sẽ dựng trước giờ phát", "{engine}, to be rendered before air"),
    "voice.why": (" — vì {reason}", " — because {reason}"),
    "voice.recorded": ("bản ghi âm", "recording"),
    "speech.gtts.failed": (
        "gTTS (giọng Google, cần mạng) không đọc được sau {attempts} lần thử: {error}",
        "gTTS (Google voice, needs the network) failed after {attempts} attempt(s): {error}",
    ),
    "speech.gtts.timeout": (
        "hết thời gian chờ máy chủ Google ({timeout} giây)",
        "Google's server did not answer within {timeout} s",
    ),
    "speech.gtts.empty": (
        "máy chủ Google trả về âm thanh rỗng",
        "Google's server returned no audio",
    ),
    "speech.espeak.missing": (
        "không tìm thấy chương trình espeak-ng ({binary}); hãy cài gói Debian espeak-ng",
        "the espeak-ng program ({binary}) was not found; install the Debian package espeak-ng",
    ),
    "speech.espeak.failed": (
        "eSpeak NG không đọc được (mã lỗi {code}): {error}",
        "eSpeak NG failed (exit code {code}): {error}",
    ),
    "speech.espeak.timeout": (
        "eSpeak NG không xong trong {timeout} giây",
        "eSpeak NG did not finish within {timeout} s",
    ),
    "speech.audio.invalid": (
        "{engine} trả về âm thanh hỏng, không giải mã được: {error}",
        "{engine} produced broken audio that does not decode: {error}",
    ),
    "speech.ffmpeg.missing": (
        "không tìm thấy ffmpeg; hãy cài gói Debian ffmpeg",
        "ffmpeg was not found; install the Debian package ffmpeg",
    ),
    "speech.all_failed": (
        "Không giọng đọc nào đọc được đoạn \"{text}\": {failures}",
        "No speech engine could speak \"{text}\": {failures}",
    ),
    "speech.unknown_engine": (
        "giọng đọc không có: {name}; chọn một trong {known}",
        "unknown speech engine {name}; choose one of {known}",
    ),
    "speech.no_engines": (
        "chưa chọn giọng đọc nào (station.speech.engines trống)",
        "no speech engine chosen (station.speech.engines is empty)",
    ),
    "speech.nothing_to_say": (
        "văn bản trống, không có gì để đọc",
        "the text is empty, nothing to speak",
    ),
    "speech.cache.unwritable": (
        "không ghi được vào thư mục bộ nhớ đệm giọng đọc {folder}: {error}",
        "cannot write to the speech cache folder {folder}: {error}",
    ),
    "speech.dictionary.invalid": (
        "từ điển cách đọc {path} có lỗi:\n{problems}",
        "the pronunciation dictionary {path} has errors:\n{problems}",
    ),
    "say.spoke": (
        "Đã đọc bằng {engine} → {path} ({seconds:.1f} giây)",
        "Spoken by {engine} → {path} ({seconds:.1f} s)",
    ),
    "say.fallback": (
        "Giọng dự phòng, vì: {reason}",
        "Fallback voice, because: {reason}",
    ),
    "say.need_text": (
        "hãy cho văn bản cần đọc, hoặc --bulletin MÃ",
        "give the text to speak, or --bulletin ID",
    ),
    "say.text_and_bulletin": (
        "cho văn bản hoặc --bulletin, không cho cả hai",
        "give either a text or --bulletin, not both",
    ),
    "say.unknown_bulletin": (
        "không có bản tin mã {id} trong {path}; có: {known}",
        "no bulletin with id {id} in {path}; there are: {known}",
    ),
    "say.audio_bulletin": (
        "bản tin {id} là tệp âm thanh ({audio}), không có chữ để đọc",
        "bulletin {id} is an audio file ({audio}); there is no text to speak",
    ),
    "say.output_failed": (
        "không ghi được tệp {path}: {error}",
        "cannot write {path}: {error}",
    ),
})
