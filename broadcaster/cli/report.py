"""`report`: the commune's report on its publicity plans, from the as-run log."""

from __future__ import annotations

import sys
from datetime import date, datetime
from pathlib import Path

import click

from broadcaster import i18n
from broadcaster.cli.app import cli, schedule_option
from broadcaster.errors import ReportError
from broadcaster.report import FORMATS, build, period_bounds, text, write
from broadcaster.schedule import load_schedule

i18n.register({
    "report.bad_period": ("Kỳ báo cáo không hợp lệ {value!r}: viết 2023-03, 2023-Q1 hoặc 2023.",
                          "Invalid period {value!r}: write 2023-03, 2023-Q1 or 2023."),
    "report.need_period": ("Chọn kỳ báo cáo: --period, hoặc cả --from và --to.",
                           "Choose the period: --period, or both --from and --to."),
    "report.bad_range": ("Ngày --from ({first}) sau ngày --to ({last}).", "--from ({first}) is after --to ({last})."),
    "report.binary_to_terminal": ("Định dạng {fmt} cần --out TỆP.", "Format {fmt} needs --out FILE."),
    "report.written": ("Đã ghi báo cáo {path}", "Report written to {path}"),
})


def _period(period: str | None, first: datetime | None, last: datetime | None) -> tuple[date, date]:
    if period:
        try:
            return period_bounds(period)
        except ValueError:
            raise ReportError(i18n.tr("report.bad_period", value=period)) from None
    if first is None or last is None:
        raise ReportError(i18n.tr("report.need_period"))
    if first > last:
        raise ReportError(i18n.tr("report.bad_range", first=first.date(), last=last.date()))
    return first.date(), last.date()


@cli.command()
@schedule_option
@click.option("--period", help="2023-03 (a month), 2023-Q1 (a quarter) or 2023 (a year).")
@click.option("--from", "first_day", type=click.DateTime(["%Y-%m-%d"]), default=None, help="First day (YYYY-MM-DD).")
@click.option("--to", "last_day", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Last day, inclusive.")
@click.option("--campaign", default=None, help="Only this campaign (its id in schedule.yaml).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="md", show_default=True)
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Output file; md and json print to the terminal without it.")
def report(schedule_path, period, first_day, last_day, campaign, fmt, out) -> int:
    """Report what each campaign got on air, from the as-run log."""
    first, last = _period(period, first_day, last_day)
    schedule = load_schedule(schedule_path)
    if out is None and fmt not in ("md", "json"):
        raise ReportError(i18n.tr("report.binary_to_terminal", fmt=fmt))
    figures, rows = build(schedule, first, last, now=datetime.now(schedule.station.timezone), campaign=campaign)
    if out is None:
        sys.stdout.write(text(figures, fmt))
        return 0
    write(figures, rows, fmt, out)
    click.echo(i18n.tr("report.written", path=out), err=True)
    return 0
