"""Who did something, as people read it: a person's name and organisation, never a login name.

张三（保定市竞秀区人民调解委员会）. The name is the account's display name, else the name of the mediator the
account is linked to; an account that names nobody reads as its role (调解员（…）). The organisation is the
account's, else its mediator's; an account without one (a coordinator, an administrator) reads with its region
when it has one. Scheduled jobs and the system read as 系统. Login names stay in the audit log only."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import event, select
from sqlalchemy.orm import Session, SessionTransaction, joinedload

from ..core.filters import ROLE_LABELS
from ..extensions import db


@dataclass(frozen=True)
class Person:
    """A person as shown: ``name`` (or the role when the account names nobody) and where they work."""

    name: str
    organization: str | None = None

    @property
    def label(self) -> str:
        """张三（保定市竞秀区人民调解委员会）, or the name alone."""
        if not self.organization:
            return self.name
        return _("%(name)s（%(organization)s）", name=self.name, organization=self.organization)


def person_for_user(user_id: int | None) -> Person:
    """The person behind an account id (None: the system). Loads through the session's identity map, so a
    timeline of many events by a few people costs a few lookups."""
    from ..regions.models import Region
    from ..registry.models import Mediator
    from .models import User

    if user_id is None:
        return Person(_("系统"))
    user = db.session.get(User, user_id)
    if user is None:
        return Person(_("已删除的账号"))
    mediator = db.session.get(Mediator, user.mediator_id) if user.mediator_id else None
    name = (user.display_name or "").strip() or (mediator.name if mediator is not None else "")
    organization = user.organization or (mediator.organization if mediator is not None else None)
    if organization is not None:
        where = organization.name
    else:
        region = db.session.get(Region, user.region_code) if user.region_code else None
        where = region.full_name if region is not None else None
    return Person(name or _(ROLE_LABELS.get(user.role.value, user.role.value)), where)


def load_people(user_ids: Iterable[int | None]) -> None:
    """Load the accounts behind these ids with what ``person_for_user`` reads of them (the account's organisation,
    its mediator and the mediator's organisation) in one statement, so that a timeline's names then come from the
    session's identity map without a query each. Nothing is sent for no account (the system). The region an account
    without an organisation reads as (an administrator's) is still looked up when shown."""
    from ..registry.models import Mediator
    from .models import User

    ids = sorted({user_id for user_id in user_ids if user_id is not None})
    if ids:
        rows = db.session.execute(
            select(User, Mediator)
            .outerjoin(Mediator, Mediator.id == User.mediator_id)
            .where(User.id.in_(ids))
            .options(joinedload(User.organization), joinedload(Mediator.organization))
        ).all()
        # the identity map holds rows weakly: keep them until the transaction ends, or they are gone before shown
        db.session.info.setdefault(_LOADED, []).extend(row for pair in rows for row in pair if row is not None)


_LOADED = "auth_people_loaded"  # session.info key: the accounts (and mediators) load_people read


@event.listens_for(Session, "after_transaction_end")
def _drop_loaded_people(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_LOADED, None)
