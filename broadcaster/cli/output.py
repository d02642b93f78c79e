"""`devices`, `test-tone` and `outputs`: the operator's checks of the sound card, amplifier and streams."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.table import Table

from broadcaster import i18n
from broadcaster.cli.app import cli, console, schedule_option
from broadcaster.errors import BroadcasterError, OutputError
from broadcaster.output import list_devices, open_output, play_test_tone

i18n.register({
    "devices.title": ("Thiết bị âm thanh (đầu ra)", "Sound devices (output)"),
    "devices.col.index": ("Số", "No."),
    "devices.col.name": ("Tên", "Name"),
    "devices.col.channels": ("Kênh", "Channels"),
    "devices.col.rate": ("Tần số mẫu (Hz)", "Sample rate (Hz)"),
    "devices.col.default": ("Mặc định", "Default"),
    "devices.none": (
        "Không tìm thấy thiết bị âm thanh nào. Hãy kiểm tra card âm thanh, hoặc đặt "
        "`output: file:THƯ_MỤC` trong lịch để ghi chương trình ra tệp WAV.",
        "No sound device found. Check the sound card, or set `output: file:FOLDER` in the "
        "schedule to write programmes as WAV files."),
    "tone.playing": ("Đang phát âm thử {frequency:.0f} Hz trong {seconds:g} giây trên {output}...",
                     "Playing a {frequency:.0f} Hz test tone for {seconds:g} s on {output}..."),
    "tone.done": ("Đã phát xong âm thử (bắt đầu lúc {started}).",
                  "Test tone played (started at {started})."),
    "tone.stopped": ("Âm thử bị dừng.", "Test tone stopped."),
    "outputs.title": ("Đầu ra và vùng phát", "Outputs and zones"),
    "outputs.col.name": ("Đầu ra", "Output"),
    "outputs.col.state": ("Trạng thái", "State"),
    "outputs.col.listeners": ("Người nghe", "Listeners"),
    "outputs.col.error": ("Lỗi gần nhất", "Last error"),
    "outputs.connected": ("đang phát", "connected"),
    "outputs.disconnected": ("mất kết nối", "disconnected"),
    "outputs.unknown": ("chưa rõ", "unknown"),
    "outputs.from.icecast": ("(theo Icecast)", "(as Icecast says)"),
})


@cli.command()
def devices() -> int:
    """List the sound devices that can play, with their numbers for `output:`."""
    found = list_devices()
    if not found:
        raise OutputError(i18n.tr("devices.none"))
    table = Table(title=i18n.tr("devices.title"))
    for column in ("index", "name", "channels", "rate", "default"):
        table.add_column(i18n.tr(f"devices.col.{column}"),
                         justify="right" if column in ("index", "channels", "rate") else "left")
    for device in found:
        table.add_row(str(device.index), device.name, str(device.channels),
                      f"{device.default_samplerate:.0f}", "*" if device.is_default else "",
                      style="bold" if device.is_default else None)
    console().print(table)
    return 0


@cli.command("test-tone")
@click.option("--output", "spec", default=None,
              help="Device name or number, `default`, or `file:DIR`; the schedule's `output:` "
                   "when there is a schedule file, else `default`.")
@click.option("--seconds", type=click.FloatRange(0.1, 60.0), default=3.0, show_default=True)
@click.option("--frequency", type=click.FloatRange(50.0, 10000.0), default=1000.0, show_default=True)
@schedule_option
def test_tone(spec: str | None, seconds: float, frequency: float, schedule_path: Path) -> int:
    """Play a short tone so the operator can check the amplifier and the horns."""
    base = None
    if spec is None:
        spec = "default"
        if schedule_path.exists():
            from broadcaster.schedule import load_schedule

            schedule = load_schedule(schedule_path)
            spec, base = schedule.station.output, schedule.folder
    output = open_output(spec, base=base)
    try:
        click.echo(i18n.tr("tone.playing", frequency=frequency, seconds=seconds, output=output.name))
        report = play_test_tone(output, seconds=seconds, frequency=frequency)
    finally:
        output.close()
    if report.error:
        raise OutputError(report.error)
    if not report.completed:
        click.echo(i18n.tr("tone.stopped"))
        return 1
    click.echo(i18n.tr("tone.done", started=report.started.astimezone().isoformat(timespec="milliseconds")))
    return 0


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object per output and zone.")
@schedule_option
def outputs(as_json: bool, schedule_path: Path) -> int:
    """Each output and zone with its state, Icecast listeners and last error."""
    from broadcaster.onair.control import ask_daemon
    from broadcaster.output.icecast import output_statuses
    from broadcaster.schedule import load_schedule

    schedule = load_schedule(schedule_path)
    station = schedule.station
    try:
        live = (ask_daemon(station.state_dir, {"cmd": "outputs"}, patience=5) or {}).get("outputs")
    except BroadcasterError:
        live = None                      # a daemon too busy to say: Icecast still can
    rows = output_statuses(station.outputs, station.zones, live if isinstance(live, dict) else None)
    if as_json:
        click.echo(json.dumps([vars(row) for row in rows], ensure_ascii=False))
        return 0
    table = Table(title=i18n.tr("outputs.title"))
    for column in ("name", "state", "listeners", "error"):
        table.add_column(i18n.tr(f"outputs.col.{column}"), justify="right" if column == "listeners" else "left")
    for row in rows:
        state = i18n.tr("outputs.unknown" if row.connected is None else
                        "outputs.connected" if row.connected else "outputs.disconnected")
        if row.source == "icecast":
            state += " " + i18n.tr("outputs.from.icecast")
        table.add_row(row.name, state, "-" if row.listeners is None else str(row.listeners), row.last_error or "",
                      style=None if row.connected is not False else "red")
    console().print(table)
    return 0
