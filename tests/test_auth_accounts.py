"""Account administration pages: administrators list, create and switch off accounts; nobody else may."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from mediation_hub.auth.models import User
from mediation_hub.core.actor import Role
from mediation_hub.extensions import db


@pytest.fixture
def admin_client(signed_in, make_user):
    return signed_in(make_user(role=Role.admin, username="acct-admin"))


def test_admin_creates_a_region_scoped_registrar(admin_client):
    response = admin_client.post(
        "/accounts/new",
        data={
            "username": "hebei-registrar",
            "display_name": "河北登记",
            "role": "registry_admin",
            "region": "130000",
            "password": "a-long-password-1",
        },
    )
    assert response.status_code == 302
    user = db.session.scalar(sa.select(User).where(User.username == "hebei-registrar"))
    assert user.role == Role.registry_admin and user.region_code == "130000"
    assert user.password_hash.startswith("$argon2")
    html = admin_client.get("/accounts?q=hebei").get_data(as_text=True)
    assert "hebei-registrar" in html and "河北省" in html and "登记管理员" in html


def test_bad_account_form_names_the_fields_and_keeps_no_password(admin_client):
    response = admin_client.post(
        "/accounts/new", data={"username": "acct-admin", "role": "mediator", "region": "999999", "password": "short-pw"}
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    for message in ("该用户名已被使用", "至少 10 个字符", "未知的行政区划代码", "该角色须隶属一个组织"):
        assert message in html, message
    assert "short-pw" not in html


def test_admin_switches_an_account_off_and_it_can_no_longer_sign_in(admin_client, make_user, client):
    user = make_user(role=Role.coordinator, username="acct-off")
    db.session.commit()
    assert admin_client.post(f"/accounts/{user.id}/active", data={"active": "0"}).status_code == 302
    db.session.refresh(user)
    assert user.active is False
    assert "已停用" in admin_client.get("/accounts?q=acct-off").get_data(as_text=True)
    from tests.factories import PASSWORD

    admin_client.post("/logout")
    assert client.post("/login", data={"username": "acct-off", "password": PASSWORD}).status_code == 422


def test_admin_cannot_switch_off_itself(admin_client):
    me = db.session.scalar(sa.select(User).where(User.username == "acct-admin"))
    admin_client.post(f"/accounts/{me.id}/active", data={"active": "0"})
    db.session.refresh(me)
    assert me.active is True


@pytest.mark.parametrize("role", [Role.registry_admin, Role.coordinator, Role.mediator])
def test_only_administrators_manage_accounts(signed_in, make_user, role):
    client = signed_in(make_user(role=role))
    assert client.get("/accounts").status_code == 403
    response = client.post("/accounts/new", data={"username": "x", "role": "admin", "password": "p" * 12})
    assert response.status_code == 403
    assert db.session.scalar(sa.select(User.id).where(User.username == "x")) is None
    assert "/accounts" not in client.get("/registry/studios").get_data(as_text=True)
