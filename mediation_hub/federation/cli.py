"""``mediation-hub peers …`` (the hubs this one trusts) and ``mediation-hub federation …`` (what is owed to them)."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext


@click.group("peers", help="Other hubs this hub exchanges messages with (docs/FEDERATION.md).")
def peers_group() -> None:
    pass


def _read_secret() -> str:
    secret = sys.stdin.readline().strip()
    if not secret:
        raise click.UsageError("the shared secret (whsec_…) is read from standard input")
    return secret


@peers_group.command("add")
@click.argument("hub_id")
@click.argument("url")
@click.option("--secret-stdin", is_flag=True, required=True, help="read the shared secret (whsec_…) from stdin")
@with_appcontext
def add_command(hub_id: str, url: str, secret_stdin: bool) -> None:
    """Trust HUB_ID, whose hub answers at URL (its MEDIATION_HUB_PUBLIC_URL); both hubs add each other with the same
    secret. This hub's directory is sent to it at once."""
    from ..cli import refuse
    from ..core.uow import transaction
    from ..errors import StateConflict, ValidationFailed
    from .directory import send_directory
    from .service import add_peer

    secret = _read_secret()
    with transaction():
        try:
            peer = add_peer(hub_id, url, secret)
        except (ValidationFailed, StateConflict) as exc:
            refuse(exc)
        send_directory(peer, force=True)
    click.echo(f"peer {hub_id} added ({url}); directory queued")


@peers_group.command("rotate-secret")
@click.argument("hub_id")
@click.option("--secret-stdin", is_flag=True, required=True, help="read the new secret (whsec_…) from stdin")
@with_appcontext
def rotate_command(hub_id: str, secret_stdin: bool) -> None:
    """A new shared secret for HUB_ID; the previous one stays valid for 24 hours (messages are signed with both)."""
    from ..cli import refuse
    from ..core.uow import transaction
    from ..errors import NotFound, ValidationFailed
    from .service import rotate_secret

    secret = _read_secret()
    with transaction():
        try:
            peer = rotate_secret(hub_id, secret)
        except (ValidationFailed, NotFound) as exc:
            refuse(exc)
    until = f"{peer.previous_valid_until:%Y-%m-%d %H:%M}"
    click.echo(f"peer {hub_id}: new secret in use; the previous one is valid until {until} UTC")


@peers_group.command("list")
@with_appcontext
def list_command() -> None:
    """Each peer: hub id, address, last contact."""
    from .service import list_peers

    for peer in list_peers():
        contact = f"{peer.last_contact_at:%Y-%m-%d %H:%M:%S}" if peer.last_contact_at else "never"
        rotation = " (secret rotating)" if peer.previous_secret_enc else ""
        click.echo(f"{peer.hub_id}\t{peer.url}\tlast contact {contact}{rotation}")


@peers_group.command("remove")
@click.argument("hub_id")
@with_appcontext
def remove_command(hub_id: str) -> None:
    """Stop trusting HUB_ID: its messages are refused from now on; what was owed to it is set aside."""
    from ..cli import refuse
    from ..core.uow import transaction
    from ..errors import NotFound
    from .service import remove_peer

    with transaction():
        try:
            set_aside = remove_peer(hub_id)
        except NotFound as exc:
            refuse(exc)
    click.echo(f"peer {hub_id} removed; {set_aside} queued message(s) set aside")


@click.group("federation", help="Messages between hubs: status, sending, the directory.")
def federation_group() -> None:
    pass


@federation_group.command("status")
@with_appcontext
def status_command() -> None:
    """Per peer: last contact, queued, undeliverable, oldest waiting, received, held."""
    from flask import current_app

    from .service import status

    click.echo(f"this hub: {current_app.config['HUB_ID']} at {current_app.config['PUBLIC_URL']}")
    for row in status():
        contact = f"{row.last_contact_at:%Y-%m-%d %H:%M:%S}" if row.last_contact_at else "never"
        oldest = f"{row.oldest_waiting:%Y-%m-%d %H:%M:%S}" if row.oldest_waiting else "-"
        failing = f", failing since {row.failing_since:%Y-%m-%d %H:%M:%S}" if row.failing_since else ""
        click.echo(
            f"{row.hub_id}: last contact {contact}{failing}; queued {row.queued} (oldest {oldest}); "
            f"undeliverable {row.undeliverable}; refused {row.refused}; delivered {row.delivered}; "
            f"received {row.received}; held {row.held}"
        )


@federation_group.command("deliver")
@with_appcontext
def deliver_command() -> None:
    """Send every message that is due now (the scheduler does this every minute)."""
    from ..core.uow import transaction
    from .delivery import deliver_due

    with transaction():
        delivered = deliver_due()
    click.echo(f"{delivered} message(s) delivered")


@federation_group.command("send-directory")
@click.option("--force", is_flag=True, help="send even to peers that have the current one")
@with_appcontext
def send_directory_command(force: bool) -> None:
    """Queue this hub's directory to every peer whose copy is out of date."""
    from ..core.uow import transaction
    from .directory import send_directory

    with transaction():
        queued = send_directory(force=force)
    click.echo(f"directory queued to {queued} peer(s)")


@federation_group.command("send-again")
@click.argument("message_id")
@with_appcontext
def send_again_command(message_id: str) -> None:
    """Send an undeliverable or refused message again (its schedule starts afresh)."""
    from ..cli import refuse
    from ..core.uow import transaction
    from ..errors import NotFound, StateConflict
    from .service import send_again

    with transaction():
        try:
            send_again(message_id)
        except (NotFound, StateConflict) as exc:
            refuse(exc)
    click.echo(f"message {message_id} queued again")
