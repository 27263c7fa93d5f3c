"""``mediation-hub calendar status`` and ``mediation-hub calendar load YEAR FILE``."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext


@click.group("calendar", help="The working-day calendar: official and provisional years, loading a notice.")
def calendar_group():
    pass


@calendar_group.command("status")
@with_appcontext
def calendar_status_command():
    """Each year the calendar holds, with its status, source and load time; which year to load next."""
    from ..core.shanghai import today_shanghai
    from .service import calendar_years, years_to_load

    for record in sorted(calendar_years(), key=lambda y: y.year):
        version = f" {record.source_version}" if record.source_version else ""
        by = f", loaded by {record.loaded_by}" if record.loaded_by else ""
        click.echo(
            f"{record.year}  {record.status.value:<11}  {record.source}{version}"
            f"  ({record.loaded_at:%Y-%m-%d %H:%M} UTC{by})"
        )
    for year in years_to_load(today_shanghai()):
        click.echo(
            f"{year} is provisional: load the State Council's notice with "
            f"'mediation-hub calendar load {year} FILE' or on the 工作日历 page"
        )


@calendar_group.command("load")
@click.argument("year", type=int)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--source", default=None, help="the notice's title (default: the file's 'source', or its name)")
@with_appcontext
def calendar_load_command(year, file, source):
    """Make YEAR official from FILE (csv: a date or range and holiday/workday per row; json: {"holidays": [...],
    "workdays": [...], "source": "…"}); every open deadline that touches the year is counted again."""
    from ..cli import refuse
    from ..core.actor import Actor, Role
    from ..core.uow import transaction
    from ..errors import ValidationFailed
    from .service import publish_year, read_notice

    actor = Actor(user_id=None, username="cli", role=Role.admin)
    with transaction():
        try:
            notice = read_notice(file.name, file.read_bytes())
            change = publish_year(
                actor, year, notice.holidays, notice.workdays, source=source or notice.source or file.name
            )
        except ValidationFailed as exc:
            refuse(exc)
    click.echo(
        f"{year} loaded: {len(notice.holidays)} holidays, {len(notice.workdays)} make-up workdays, "
        f"{len(change.days_changed)} days changed, {len(change.moved)} open deadlines moved"
    )
    for move in change.moved:
        click.echo(f"  {move.message()}")
