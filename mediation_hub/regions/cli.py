"""``mediation-hub regions import-places FILE``: towns and villages from a csv."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext


@click.group("regions", help="Administrative divisions: towns and villages added under the counties.")
def regions_group():
    pass


@regions_group.command("import-places")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def import_places_command(file):
    """Add towns and villages from FILE, a csv with the header code,name,parent (or 代码,名称,上级代码): a town
    under a county, a village under a town, 12-digit 统计用区划代码 (a town also in 9 digits). A place already held
    under the same parent is renamed; a bad row stops the whole load, nothing written, each bad row on standard
    error (exit 2)."""
    from ..cli import refuse
    from ..core.actor import Actor, Role
    from ..core.uow import transaction
    from ..errors import ValidationFailed
    from .service import import_places_file

    actor = Actor(user_id=None, username="cli", role=Role.admin)
    with transaction():
        try:
            result = import_places_file(actor, file.name, file.read_bytes())
        except ValidationFailed as exc:
            refuse(exc)
    click.echo(f"places loaded from {file.name}: {result.added} added, {result.updated} renamed")
