"""Sessions and accounts (issue 12, item 6): a signed-in browser lives only as long as its server-side session
row, so signing out kills a captured cookie at once (and only that browser); a password change (page, API) or
reset (CLI) and a deactivation end every session and token of the account, and a reactivation revives none;
each of these, and role and scope changes, is audited with before and after."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from mediation_hub.audit.models import AuditEntry
from mediation_hub.auth import sessions
from mediation_hub.auth.browser import SESSION_KEY
from mediation_hub.auth.models import ApiToken, User, UserSession
from mediation_hub.auth.service import issue_token, update_user
from mediation_hub.core.actor import Role
from mediation_hub.core.db import utcnow
from mediation_hub.errors import ValidationFailed
from mediation_hub.extensions import db
from tests.conftest import sign_in_client
from tests.factories import PASSWORD

NEW_PASSWORD = "a-brand-new-password-2026"
PAGE = "/notifications/"  # any page every signed-in role may open


def signed_out(response) -> bool:
    return response.status_code == 302 and "/login" in response.headers["Location"]


def sign_in_by_form(app, username: str, password: str = PASSWORD):
    """A fresh browser signed in through the sign-in page."""
    browser = app.test_client()
    response = browser.post("/login", data={"username": username, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return browser


def replay(app, cookie: str):
    """Another browser carrying a copy of a session cookie."""
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    return thief


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def audit_rows(action: str, **where) -> list[AuditEntry]:
    stmt = sa.select(AuditEntry).where(AuditEntry.action == action)
    for name, value in where.items():
        stmt = stmt.where(getattr(AuditEntry, name) == value)
    return list(db.session.scalars(stmt.order_by(AuditEntry.id)))


# --- signing out ------------------------------------------------------------------------------------------


def test_logout_kills_a_captured_cookie_but_not_the_other_browsers(app, make_user):
    user = make_user()
    db.session.commit()
    browser = sign_in_by_form(app, user.username)
    other_browser = sign_in_by_form(app, user.username)
    captured = browser.get_cookie("session").value
    assert replay(app, captured).get(PAGE).status_code == 200  # the copy works while the session lives

    assert signed_out(browser.post("/logout"))

    assert signed_out(replay(app, captured).get(PAGE))
    assert signed_out(browser.get(PAGE))
    assert other_browser.get(PAGE).status_code == 200  # signing out one browser leaves the others
    [entry] = audit_rows("sign_out", user_id=user.id)
    assert entry.target_id == str(user.id)
    rows = db.session.scalars(
        sa.select(UserSession).where(UserSession.user_id == user.id).order_by(UserSession.id)
    ).all()
    assert [row.revoked_at is not None for row in rows] == [True, False]


def test_signing_in_again_in_one_browser_drops_its_previous_session(app, make_user):
    user = make_user()
    db.session.commit()
    browser = sign_in_by_form(app, user.username)
    captured = browser.get_cookie("session").value
    browser.post("/login", data={"username": user.username, "password": PASSWORD})
    assert browser.get(PAGE).status_code == 200
    assert signed_out(replay(app, captured).get(PAGE))


def test_the_session_row_holds_a_hash_and_the_browser_kind_only(app, make_user):
    user = make_user()
    db.session.commit()
    browser = app.test_client()
    browser.environ_base["HTTP_USER_AGENT"] = (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
    )
    browser.post("/login", data={"username": user.username, "password": PASSWORD})
    with browser.session_transaction() as cookie:
        key = cookie[SESSION_KEY]
    row = db.session.scalars(sa.select(UserSession).where(UserSession.user_id == user.id)).one()
    assert row.key_hash == sessions.key_digest(key) and key not in row.key_hash
    assert row.client == "Chrome / Windows" and row.remote_addr == "127.0.0.1"
    # PERMANENT_SESSION_LIFETIME is 10 hours
    assert row.expires_at - row.created_at == timedelta(hours=10)


@pytest.mark.parametrize("state", ["expired", "revoked", "account_off", "other_users_id"])
def test_a_cookie_without_a_live_session_row_is_signed_out(client, make_user, state):
    user = make_user()
    sign_in_client(client, user)
    row = db.session.scalars(sa.select(UserSession).where(UserSession.user_id == user.id)).one()
    if state == "expired":
        row.created_at, row.expires_at = utcnow() - timedelta(hours=10, seconds=1), utcnow() - timedelta(seconds=1)
    elif state == "revoked":
        row.revoked_at = utcnow()
    elif state == "account_off":
        user.active = False
    else:  # the key of one account under another account's id
        intruder = make_user()
        with client.session_transaction() as cookie:
            cookie["_user_id"] = str(intruder.id)
    db.session.commit()
    assert signed_out(client.get(PAGE))


def test_a_cookie_from_before_server_side_sessions_is_signed_out(client, make_user):
    """A browser signed in by the old code carries Flask-Login's keys only: it must sign in again."""
    signed = sign_in_client(client, make_user())
    with signed.session_transaction() as cookie:
        del cookie[SESSION_KEY]
    assert signed_out(signed.get(PAGE))


def test_last_seen_is_written_at_most_once_a_minute(client, make_user):
    user = make_user()
    sign_in_client(client, user)
    row = db.session.scalars(sa.select(UserSession).where(UserSession.user_id == user.id)).one()
    long_ago = utcnow() - timedelta(minutes=5)
    row.last_seen_at = long_ago
    db.session.commit()
    assert client.get(PAGE).status_code == 200
    db.session.refresh(row)
    first = row.last_seen_at
    assert first > long_ago + timedelta(minutes=4)
    assert client.get(PAGE).status_code == 200
    db.session.refresh(row)
    assert row.last_seen_at == first  # within the minute: no second write


# --- password changes and resets --------------------------------------------------------------------------


@pytest.fixture
def account_in_use(app, make_user):
    """A mediator signed in in two browsers (A and B) with two API tokens."""
    user = make_user(username=f"mediator-{uuid.uuid4().hex[:8]}")
    tokens = [issue_token(user, timedelta(hours=1))[0] for _ in range(2)]
    db.session.commit()
    browsers = [sign_in_by_form(app, user.username) for _ in range(2)]
    for browser in browsers:
        assert browser.get(PAGE).status_code == 200
    return user, browsers, tokens


def change_by_page(app, user, browsers, tokens):
    response = browsers[0].post(
        "/account/password",
        data={"current_password": PASSWORD, "new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD},
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]


def change_by_api(app, user, browsers, tokens):
    response = app.test_client().post(
        "/api/v1/auth/password",
        headers=bearer(tokens[0]),
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
    )
    assert response.status_code == 204, response.get_data(as_text=True)
    assert response.get_data() == b""


def reset_by_cli(app, user, browsers, tokens):
    result = app.test_cli_runner().invoke(
        args=["users", "set-password", user.username, "--password-stdin"], input=NEW_PASSWORD + "\n"
    )
    assert result.exit_code == 0, result.output
    assert NEW_PASSWORD not in result.output


@pytest.mark.parametrize(
    ("change", "action", "by_the_user"),
    [
        (change_by_page, "password_changed", True),
        (change_by_api, "password_changed", True),
        (reset_by_cli, "password_reset", False),
    ],
)
def test_a_password_change_ends_every_other_session_and_every_token(app, account_in_use, change, action, by_the_user):
    user, browsers, tokens = account_in_use
    change(app, user, browsers, tokens)

    api = app.test_client()
    for token in tokens:  # the token the API call used is revoked too
        assert api.get("/api/v1/organizations", headers=bearer(token)).status_code == 401
    assert signed_out(browsers[1].get(PAGE))
    # the page that changed it keeps its person signed in, with a fresh session
    assert (browsers[0].get(PAGE).status_code == 200) == (change is change_by_page)
    # 2 tokens and 2 browser sessions were live, and are counted in the entry
    [entry] = audit_rows(action, target_id=str(user.id))
    assert entry.target_type == "user"
    assert entry.detail == {"tokens_revoked": 2, "sessions_revoked": 2}
    assert entry.user_id == (user.id if by_the_user else None)
    assert PASSWORD not in repr(entry.detail) and NEW_PASSWORD not in repr(entry.detail)
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        )
        == 0
    )
    live = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(UserSession)
        .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
    )
    assert live == (1 if change is change_by_page else 0)
    # the new password signs in, the old one no more
    assert app.test_client().post("/login", data={"username": user.username, "password": PASSWORD}).status_code == 422
    sign_in_by_form(app, user.username, NEW_PASSWORD)


def send_change(app, user, browsers, tokens, current, new, *, via):
    if via == "api":
        response = app.test_client().post(
            "/api/v1/auth/password", headers=bearer(tokens[0]), json={"current_password": current, "new_password": new}
        )
        assert response.status_code == 422
        return response.json["errors"]["json"]
    response = browsers[0].post(
        "/account/password", data={"current_password": current, "new_password": new, "new_password_again": new}
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert current not in html and new not in html  # never echoed back
    return html


@pytest.mark.parametrize("via", ["page", "api"])
def test_a_wrong_current_password_changes_nothing_and_counts_as_a_failed_sign_in(app, account_in_use, via):
    user, browsers, tokens = account_in_use
    errors = send_change(app, user, browsers, tokens, "not-my-password", NEW_PASSWORD, via=via)
    if via == "api":
        assert list(errors) == ["current_password"]
    else:
        assert "当前密码不正确" in errors
    [failure] = audit_rows("sign_in_failed", username=user.username)
    assert failure.user_id is None and failure.detail == {"via": "password_change"}
    assert audit_rows("password_changed", target_id=str(user.id)) == []
    # nothing else changed: the old password, both browsers and both tokens still work
    assert browsers[1].get(PAGE).status_code == 200
    assert app.test_client().get("/api/v1/organizations", headers=bearer(tokens[1])).status_code == 200
    sign_in_by_form(app, user.username, PASSWORD)


@pytest.mark.parametrize(
    ("current", "new", "field", "message"),
    [
        (PASSWORD, "short-pw", "new_password", "至少 10 个字符"),
        (PASSWORD, "{username}", "new_password", "新密码不能与用户名相同"),
        (PASSWORD, PASSWORD, "new_password", "新密码不能与当前密码相同"),
        # without the current password the answer must not tell whether a guess is the current one
        ("a-wrong-guess-1", PASSWORD, "current_password", "当前密码不正确"),
    ],
)
@pytest.mark.parametrize("via", ["page", "api"])
def test_the_new_password_rules(app, account_in_use, via, current, new, field, message):
    user, browsers, tokens = account_in_use
    new = new.format(username=user.username.upper())  # the username in any case
    errors = send_change(app, user, browsers, tokens, current, new, via=via)
    if via == "api":
        assert list(errors) == [field] and message in errors[field][0]
    else:
        assert message in errors
    assert "新密码不能与当前密码相同" not in str(errors) or current == PASSWORD


def test_the_page_refuses_two_different_new_passwords(account_in_use):
    _user, browsers, _tokens = account_in_use
    response = browsers[0].post(
        "/account/password",
        data={"current_password": PASSWORD, "new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD + "x"},
    )
    assert response.status_code == 422 and "两次输入的新密码不一致" in response.get_data(as_text=True)


def test_the_layout_links_the_password_page(signed_in, make_user):
    html = signed_in(make_user()).get(PAGE).get_data(as_text=True)
    assert 'href="/account/password"' in html


@pytest.mark.parametrize(
    ("name", "stdin", "message"),
    [
        ("nobody-at-all", NEW_PASSWORD + "\n", "name: 没有该用户名的账户"),
        ("{user}", "short\n", "password: 至少 10 个字符"),
    ],
)
def test_set_password_refuses_clearly(app, make_user, name, stdin, message):
    user = make_user()
    db.session.commit()
    result = app.test_cli_runner().invoke(
        args=["users", "set-password", name.format(user=user.username), "--password-stdin"], input=stdin
    )
    assert result.exit_code == 2 and message in result.output
    assert audit_rows("password_reset", target_id=str(user.id)) == []


def test_set_password_never_takes_the_password_as_an_argument(app, make_user):
    user = make_user()
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["users", "set-password", user.username, NEW_PASSWORD])
    assert result.exit_code == 2  # no such argument; --password-stdin is required


# --- deactivation and reactivation ------------------------------------------------------------------------


@pytest.fixture
def admin_browser(app, make_user):
    admin = make_user(role=Role.admin)
    db.session.commit()
    browser = sign_in_client(app.test_client(), admin)
    browser.admin = admin
    return browser


def test_deactivation_ends_tokens_and_sessions_and_reactivation_revives_none(app, account_in_use, admin_browser):
    user, browsers, tokens = account_in_use
    api = app.test_client()

    assert admin_browser.post(f"/accounts/{user.id}/active", data={"active": "0"}).status_code == 302
    assert all(signed_out(browser.get(PAGE)) for browser in browsers)
    assert all(api.get("/api/v1/organizations", headers=bearer(t)).status_code == 401 for t in tokens)

    assert admin_browser.post(f"/accounts/{user.id}/active", data={"active": "1"}).status_code == 302
    assert all(signed_out(browser.get(PAGE)) for browser in browsers)
    assert all(api.get("/api/v1/organizations", headers=bearer(t)).status_code == 401 for t in tokens)
    sign_in_by_form(app, user.username)  # the person signs in afresh

    [off] = audit_rows("user_deactivated", target_id=str(user.id))
    assert off.detail == {
        "before": {"active": True},
        "after": {"active": False},
        "tokens_revoked": 2,
        "sessions_revoked": 2,
    }
    [on] = audit_rows("user_reactivated", target_id=str(user.id))
    assert on.detail == {"before": {"active": False}, "after": {"active": True}}
    assert off.user_id == on.user_id == admin_browser.admin.id


# --- role and scope ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "form", "before", "after"),
    [
        (
            {"role": Role.coordinator},
            {"role": "coordinator", "region": "130000"},
            {"region_code": None},
            {"region_code": "130000"},
        ),
        (
            {"role": Role.coordinator, "region_code": "110000"},
            {"role": "registry_admin", "region": "110000"},
            {"role": "coordinator"},
            {"role": "registry_admin"},
        ),
        (
            {"role": Role.mediator},
            {"role": "mediator", "organization": "{other_org}"},
            {"organization_id": "{org}"},
            {"organization_id": "{other_org}"},
        ),
    ],
)
def test_role_and_scope_changes_are_audited_with_before_and_after(
    admin_browser, make_user, make_org, start, form, before, after
):
    org, other_org = make_org(), make_org()
    ids = {"{org}": org.id, "{other_org}": other_org.id}
    user = make_user(organization=org if start["role"] == Role.mediator else None, **start)
    db.session.commit()
    data = {"display_name": "", **{k: str(ids.get(v, v)) for k, v in form.items()}}
    response = admin_browser.post(f"/accounts/{user.id}/edit", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    [entry] = audit_rows("user_updated", target_id=str(user.id))
    assert entry.detail["before"] == {k: ids.get(v, v) for k, v in before.items()}
    assert entry.detail["after"] == {k: ids.get(v, v) for k, v in after.items()}
    assert entry.detail["changed"] == list(after)


def test_a_display_name_change_is_audited_without_the_name(admin_browser, make_user):
    user = make_user(role=Role.coordinator)
    db.session.commit()
    admin_browser.post(f"/accounts/{user.id}/edit", data={"role": "coordinator", "display_name": "张三丰"})
    [entry] = audit_rows("user_updated", target_id=str(user.id))
    assert entry.detail == {"changed": ["display_name"], "before": {}, "after": {}}
    assert db.session.get(User, user.id).display_name == "张三丰"


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"role": "mediator", "organization": ""}, "该角色须隶属一个组织"),
        ({"role": "coordinator", "region": "999999"}, "未知的行政区划代码"),
        ({"role": "no-such-role"}, "不是有效的选择"),
    ],
)
def test_a_refused_edit_changes_nothing(admin_browser, make_user, form, message):
    user = make_user(role=Role.coordinator)
    db.session.commit()
    response = admin_browser.post(f"/accounts/{user.id}/edit", data=form)
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    db.session.refresh(user)
    assert user.role == Role.coordinator and user.region_code is None
    assert audit_rows("user_updated", target_id=str(user.id)) == []


def test_an_administrator_cannot_change_their_own_role(make_user):
    admin = make_user(role=Role.admin)
    with pytest.raises(ValidationFailed) as refused:
        update_user(admin.to_actor(), admin.id, {"role": "coordinator"})
    assert refused.value.errors == {"role": ["不能更改自己的角色"]}
    assert refused.value.errors["role"][0].code == "cannot_change_own_role"


@pytest.mark.parametrize("role", [Role.registry_admin, Role.coordinator, Role.mediator])
def test_only_administrators_edit_accounts(signed_in, make_user, role):
    target = make_user(role=Role.coordinator)
    browser = signed_in(make_user(role=role))
    assert browser.get(f"/accounts/{target.id}/edit").status_code == 403
    assert browser.post(f"/accounts/{target.id}/edit", data={"role": "admin"}).status_code == 403
    db.session.refresh(target)
    assert target.role == Role.coordinator


def test_ended_sessions_are_pruned_a_day_later(make_user):
    """auth.sessions deletes sessions that expired or were revoked more than a day ago, and keeps the rest."""
    from mediation_hub.auth.tasks import prune_sessions

    user = make_user()
    now = utcnow()
    rows = {
        name: sessions.start_session(user, timedelta(hours=10))[1]
        for name in ("live", "expired_2d", "expired_1h", "revoked_2d", "revoked_1h")
    }
    for name, ended in (("expired_2d", timedelta(days=2)), ("expired_1h", timedelta(hours=1))):
        rows[name].created_at = rows[name].last_seen_at = now - ended - timedelta(hours=10)
        rows[name].expires_at = now - ended
    rows["revoked_2d"].revoked_at = now - timedelta(days=2)
    rows["revoked_1h"].revoked_at = now - timedelta(hours=1)
    db.session.flush()
    ids = {name: row.id for name, row in rows.items()}

    assert prune_sessions(now) == 2
    db.session.expire_all()
    left = set(db.session.scalars(sa.select(UserSession.id).where(UserSession.user_id == user.id)))
    assert left == {ids["live"], ids["expired_1h"], ids["revoked_1h"]}
