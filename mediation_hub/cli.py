"""The ``mediation-hub`` command: Flask's CLI (db upgrade, run …) plus seeding and accounts."""

from __future__ import annotations

import dataclasses
import sys
from typing import NoReturn

import click
from flask.cli import FlaskGroup, with_appcontext


def _create_app():
    from . import create_app

    return create_app()


def refuse(exc) -> NoReturn:
    """A command's input broke the rules: undo, print each field's messages on standard error, exit 2."""
    from .extensions import db

    db.session.rollback()
    for field, messages in (exc.errors or {}).items():
        click.echo(f"{field}: {'; '.join(messages)}", err=True)
    if not exc.errors:  # a conflict or a missing record: its one message
        click.echo(exc.message, err=True)
    raise SystemExit(2) from exc


@click.group("seed", help="Load reference or demo data (idempotent).")
def seed_group():
    pass


@seed_group.command("reference")
@with_appcontext
def seed_reference_command():
    """Regions (GB/T 2260 + 雄安新区), case categories and sources, agreements, working-day calendar."""
    from .core.uow import transaction
    from .seed import seed_reference

    with transaction():
        counts = seed_reference()
    click.echo("reference data loaded: " + ", ".join(f"{k}={v}" for k, v in counts.items()))


@seed_group.command("demo")
@with_appcontext
def seed_demo_command():
    """Demo organisations, mediators, studios and one account per role."""
    from .core.uow import transaction
    from .seed import DEMO_PASSWORD, DEMO_USERS, seed_demo

    with transaction():
        counts = seed_demo()
    click.echo("demo data loaded: " + ", ".join(f"{k}={v}" for k, v in counts.items()))
    click.echo(f"demo accounts (password for all: {DEMO_PASSWORD}):")
    for username, display, role, _org, _region in DEMO_USERS:
        click.echo(f"  {username:<16} {role.value:<18} {display}")


@click.group("users", help="Manage accounts.")
def users_group():
    pass


@users_group.command("create")
@click.argument("name")
@click.option(
    "--role",
    required=True,
    type=click.Choice(["admin", "registry_admin", "mediator", "legal_aid_officer", "coordinator"]),
)
@click.option("--organization", type=int, default=None, help="organisation id (mediators, legal-aid officers)")
@click.option("--region", default=None, help="region code the account is scoped to")
@click.option("--password-stdin", is_flag=True, required=True, help="read the password from standard input")
@with_appcontext
def users_create_command(name, role, organization, region, password_stdin):
    """Create an account; the password is read from standard input, never from the command line."""
    from .auth.service import create_user
    from .core.actor import SYSTEM
    from .core.uow import transaction
    from .errors import ValidationFailed

    password = sys.stdin.readline().rstrip("\n")
    with transaction():
        try:
            user = create_user(
                SYSTEM, username=name, password=password, role=role, organization_id=organization, region_code=region
            )
        except ValidationFailed as exc:
            refuse(exc)
    click.echo(f"created user {user.username} (id {user.id}, role {user.role.value})")


@users_group.command("set-password")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, required=True, help="read the new password from standard input")
@with_appcontext
def users_set_password_command(name, password_stdin):
    """An administrator's password reset from the server: the new password is read as one line from standard
    input, never from the command line. Every API token and signed-in session of the account ends."""
    from .auth.service import reset_password, user_by_username
    from .core.actor import SYSTEM
    from .core.uow import transaction
    from .errors import ValidationFailed

    password = sys.stdin.readline().rstrip("\r\n")
    with transaction():
        user = user_by_username(name)
        if user is None:
            refuse(ValidationFailed({"name": ["没有该用户名的账户"]}))
        try:
            reset_password(SYSTEM, user.id, password)
        except ValidationFailed as exc:
            refuse(exc)
    click.echo(f"password of {name} reset; its API tokens and signed-in sessions are revoked")


@click.command("scheduler")
@click.option("--once", is_flag=True, help="run every job whose slot is due once, then exit")
@with_appcontext
def scheduler_command(once):
    """Run the periodic jobs (a dedicated process for deployments); each run is claimed in the database."""
    from flask import current_app

    from .scheduler import build_scheduler, new_scheduler, run_due_jobs

    app = current_app._get_current_object()
    if once:
        outcome = run_due_jobs(app)
        for job_id, status in outcome.items():
            click.echo(f"{job_id:<24} {status}")
        raise SystemExit(1 if "failed" in outcome.values() else 0)
    from apscheduler.schedulers.blocking import BlockingScheduler

    scheduler = build_scheduler(app, new_scheduler(BlockingScheduler))
    click.echo("scheduler running: " + (", ".join(job.id for job in scheduler.get_jobs()) or "no jobs"))
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        scheduler.shutdown(wait=False)


@click.command("worker")
@click.option(
    "--queue",
    "queues",
    default="imports,exports,federation",
    show_default=True,
    help="comma-separated queues to take jobs from, in order of priority",
)
@click.option("--burst", is_flag=True, help="run the jobs waiting now, then exit")
@with_appcontext
def worker_command(queues, burst):
    """Run background jobs (imports, large exports) from the queue at MEDIATION_HUB_QUEUE_URL; start any number,
    on any host. Each job runs in a work-horse forked for it, in an app context and unit of work of its own."""
    from flask import current_app

    from .core import background

    names = [name.strip() for name in queues.split(",") if name.strip()]
    unknown = [name for name in names if name not in background.QUEUES]
    if not names or unknown:
        raise click.BadParameter(f"queues are {', '.join(background.QUEUES)}", param_hint="--queue")
    if not current_app.config.get("QUEUE_URL"):
        raise click.UsageError("MEDIATION_HUB_QUEUE_URL is not set: without a queue the jobs run in the web process")
    background.work(current_app._get_current_object(), names, burst=burst)


@click.command("events")
@with_appcontext
def events_command() -> None:
    """Every declared domain event (name, payload fields, declaring module) and who listens to it."""
    from .core import events

    for event in events.declared_events():
        payload = ", ".join(f"{field.name}: {field.type}" for field in dataclasses.fields(event))
        click.echo(f"{event.name}  ({event.__module__}.{event.__qualname__})")
        click.echo(f"    payload: {payload}")
        subscriptions = events.listeners_of(event)
        for sub in subscriptions:
            when = "after commit" if sub.after_commit else "in the transaction"
            click.echo(f"    -> {sub.package}: {sub.where} ({when})")
        if not subscriptions:
            click.echo("    -> no listener")
    for hook in events.flush_hooks():
        click.echo(f"after every flush  -> {hook.package}: {hook.where} (in the transaction)")


def register_cli(app) -> None:
    app.cli.add_command(seed_group)
    app.cli.add_command(users_group)
    app.cli.add_command(scheduler_command)
    app.cli.add_command(worker_command)
    app.cli.add_command(events_command)
    from .calendars.cli import calendar_group
    from .federation.cli import federation_group, peers_group
    from .imports.cli import import_group
    from .regions.cli import regions_group
    from .reporting.aggregates import reports_group

    app.cli.add_command(import_group)
    app.cli.add_command(calendar_group)
    app.cli.add_command(regions_group)
    app.cli.add_command(reports_group)
    app.cli.add_command(peers_group)
    app.cli.add_command(federation_group)


cli = FlaskGroup(create_app=_create_app, help="Mediation Hub (调解协同中枢) command line.")


def main() -> None:
    cli(prog_name="mediation-hub")
