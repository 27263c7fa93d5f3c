"""Factories: fixtures returning callables that build and flush objects with sensible defaults."""

from __future__ import annotations

import itertools
from datetime import date

import pytest
from stdnum.cn import ric

from mediation_hub.auth.models import User
from mediation_hub.auth.service import hash_password
from mediation_hub.core.actor import Role
from mediation_hub.extensions import db
from mediation_hub.registry.models import Mediator, Organization, OrgKind, Studio

_seq = itertools.count(1)
PASSWORD = "correct-horse-battery"


def valid_id_number(region: str = "110105", born: date | None = None, sequence: int | None = None) -> str:
    """A resident ID number with a correct check digit. Born 1980-05-17 when a test names the sequence, a day later
    when the factory counts it: a counted number never equals one a test chose (``sequence=777``) and searches for."""
    if born is None:
        born = date(1980, 5, 17) if sequence is not None else date(1980, 5, 18)
    body = f"{region}{born:%Y%m%d}{(sequence if sequence is not None else next(_seq) % 1000):03d}"
    return body + ric.calc_check_digit(body + "0")


def valid_phone() -> str:
    return f"139{next(_seq) % 100_000_000:08d}"


@pytest.fixture
def make_org():
    def build(name=None, kind=OrgKind.people_mediation_committee, region_code="110105", **kwargs):
        org = Organization(
            name=name or f"测试调解委员会{next(_seq)}",
            kind=kind,
            region_code=region_code,
            specialties=kwargs.pop("specialties", []),
            **kwargs,
        )
        db.session.add(org)
        db.session.flush()
        return org

    return build


@pytest.fixture
def make_user(make_org):
    def build(role=Role.mediator, organization=None, region_code=None, username=None, password=PASSWORD, **kw):
        role = Role(role)
        if organization is None and role in (Role.mediator, Role.legal_aid_officer):
            kind = OrgKind.legal_aid_centre if role == Role.legal_aid_officer else OrgKind.people_mediation_committee
            organization = make_org(kind=kind)
        user = User(
            username=username or f"user{next(_seq)}",
            role=role,
            password_hash=hash_password(password),
            organization_id=organization.id if organization else None,
            region_code=region_code,
            **kw,
        )
        db.session.add(user)
        db.session.flush()
        return user

    return build


@pytest.fixture
def make_mediator(make_org):
    def build(organization=None, name=None, id_number=None, phone=None, specialties=None):
        organization = organization or make_org()
        mediator = Mediator(
            name=name or f"调解员{next(_seq)}", organization_id=organization.id, specialties=specialties or []
        )
        mediator.set_id_number(id_number or valid_id_number())
        mediator.set_phone(phone or valid_phone())
        db.session.add(mediator)
        db.session.flush()
        return mediator

    return build


@pytest.fixture
def make_studio(make_mediator):
    def build(organization=None, name=None, lead=None, specialties=None):
        lead = lead or make_mediator(organization=organization)
        studio = Studio(
            name=name or f"测试工作室{next(_seq)}",
            organization_id=lead.organization_id,
            lead_mediator_id=lead.id,
            specialties=specialties or [],
        )
        db.session.add(studio)
        db.session.flush()
        return studio

    return build
