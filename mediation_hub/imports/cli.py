"""``mediation-hub import cases FILE --organization ID``: the import on the command line, with a progress bar
on standard error and the summary at the end. Exit status 0 when the file was imported (even with failed
rows, which the error report lists), 2 when it could not be used at all (type, encoding, missing columns,
organisation or account)."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

SHOWN_FAILURES = 20
BAR_STEPS = 1000


@click.group("import", help="Import historical data from the files older systems exported.")
def import_group():
    pass


def _actor(username: str | None):
    from ..auth.models import User
    from ..core.actor import SYSTEM
    from ..extensions import db

    if not username:
        return SYSTEM
    user = db.session.scalar(db.select(User).where(User.username == username))
    if user is None or not user.active:
        raise click.UsageError(f"no active account named {username!r}")
    return user.to_actor()


@import_group.command("cases")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--organization", "organization_id", type=int, required=True, help="id of the handling organisation")
@click.option(
    "--source-system",
    default="legacy",
    show_default=True,
    help="name of the system the file comes from; with the 原系统案号 it identifies a case on re-runs",
)
@click.option(
    "--errors",
    "errors_path",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="write the failed rows here (csv: 行号, 原系统案号, 字段, 原因)",
)
@click.option("--user", "username", default=None, help="record the import as this account (default: system)")
@click.option("--batch-size", type=click.IntRange(1, 10_000), default=500, show_default=True)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="check rows in this many processes (for machines with spare cores)",
)
@with_appcontext
def import_cases_command(file, organization_id, source_system, errors_path, username, batch_size, workers):
    """Import the cases (with one applicant and one respondent per row) of a csv or xlsx file.

    The column layout is in docs/IMPORT.md. Rows already imported (same organisation, source system and
    原系统案号) are skipped, so the command can simply be run again after an interruption."""
    from ..core.uow import transaction
    from ..errors import DomainError
    from .service import import_file

    err = sys.stderr
    try:
        # the command's unit of work: the import commits batch by batch inside it; an error rolls back the rest
        with transaction():
            actor = _actor(username)
            with click.progressbar(
                length=BAR_STEPS,
                label="导入案件",
                file=err,
                show_percent=True,
                item_show_func=lambda p: f"{p.processed_rows} 行" if p else "",
            ) as bar:

                def progress(step):
                    bar.update(max(int(step.fraction * BAR_STEPS) - bar.pos, 0), step)

                summary = import_file(
                    file,
                    organization_id,
                    actor,
                    source_system=source_system,
                    on_progress=progress,
                    errors_path=errors_path,
                    batch_size=batch_size,
                    workers=workers,
                )
    except DomainError as exc:
        click.echo(f"无法导入 (cannot import): {exc.message}", err=True)
        for field, messages in (exc.errors or {}).items():
            if field != "file" or messages != [exc.message]:
                click.echo(f"  {field}: {'; '.join(messages)}", err=True)
        sys.exit(2)
    _print_summary(summary, errors_path)


def _print_summary(summary, errors_path) -> None:
    click.echo(
        f"共 {summary.total} 行: 导入 {summary.imported}, 跳过 {summary.skipped} (已导入过), "
        f"失败 {summary.failed}  ({summary.seconds:.1f} 秒, {summary.rows_per_second:.0f} 行/秒)"
    )
    if summary.ignored_columns:
        click.echo("忽略的列 (not in the layout): " + "、".join(summary.ignored_columns))
    if not summary.failed:
        return
    if errors_path:
        click.echo(f"失败的行及原因见 {errors_path}")
        return
    for failure in summary.failures[:SHOWN_FAILURES]:
        click.echo(f"  第 {failure.row} 行 [{failure.source_number}] {failure.column}: {failure.reason}", err=True)
    if len(summary.failures) > SHOWN_FAILURES or summary.failed > len({f.row for f in summary.failures}):
        click.echo("  … 用 --errors FILE 保存完整的错误报告 (write the full error report with --errors FILE)", err=True)
