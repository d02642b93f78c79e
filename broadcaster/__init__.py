"""broadcaster: keeps a Vietnamese commune loudspeaker radio (đài truyền thanh xã) on air.

The package follows a bulletin from the operator's file to the horn speakers:

    schedule/     schedule.yaml -> validated, frozen model (every problem with file:line:col)
    occurrences   schedule + time window -> dated broadcasts
    text/         Vietnamese written text -> speakable text
    speech/       speakable text -> audio (gTTS, eSpeak NG), with a render cache
    programme/    broadcast + speech + jingles -> one levelled programme WAV
    output/       programme -> sound card or WAV files
    onair/        the daemon: pre-render, priorities, on-time start, hot reload
    asrun/        the as-run log (nhật ký phát thanh) in SQLite
    cli/          the thin command-line shell over the stages
"""

__version__ = "0.1.0"
