"""Web sign-in: the session works, failures are audited with who and when (UTC), attempts are
rate-limited, and `mediation-hub users create` makes accounts (and refuses bad ones clearly)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from mediation_hub.audit.models import AuditEntry
from mediation_hub.auth.models import User
from mediation_hub.core.actor import Role
from mediation_hub.extensions import db, limiter
from mediation_hub.regions.models import Region
from tests.factories import PASSWORD


def audit_rows(action: str, username: str) -> list[AuditEntry]:
    return list(
        db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action, AuditEntry.username == username))
    )


def test_sign_in_through_the_page_is_audited(client, make_user):
    user = make_user(role=Role.registry_admin)
    db.session.commit()
    before = datetime.now(UTC)
    response = client.post("/login?next=/registry/studios", data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/registry/studios"
    assert client.get("/registry/studios").status_code == 200
    [entry] = audit_rows("sign_in", user.username)
    assert entry.user_id == user.id
    assert entry.at.utcoffset() == timedelta(0) and before - timedelta(seconds=5) <= entry.at <= datetime.now(UTC)
    assert PASSWORD not in repr(entry.detail)


def test_failed_sign_in_is_shown_and_audited(client, make_user):
    user = make_user()
    db.session.commit()
    response = client.post("/login", data={"username": user.username, "password": "wrong-password-1"})
    assert response.status_code == 422
    assert "用户名或密码错误" in response.get_data(as_text=True)
    [entry] = audit_rows("sign_in_failed", user.username)
    assert entry.user_id is None and entry.at.tzinfo is not None
    assert client.get("/registry/studios").status_code == 302  # still signed out


def test_unknown_user_failure_is_audited_under_the_name_tried(client):
    client.post("/login", data={"username": "nobody-here", "password": "whatever-123"})
    assert len(audit_rows("sign_in_failed", "nobody-here")) == 1


def test_open_redirect_is_refused(client, make_user):
    user = make_user()
    db.session.commit()
    response = client.post("/login?next=//evil.example/x", data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 302 and "evil.example" not in response.headers["Location"]


@pytest.fixture
def strict_login_limit(app):
    app.config["LOGIN_RATE_LIMIT"] = "3 per minute"
    limiter.reset()
    yield
    app.config["LOGIN_RATE_LIMIT"] = "1000 per minute"
    limiter.reset()


@pytest.mark.parametrize("target", ["page", "api"])
def test_sign_in_attempts_are_rate_limited(client, make_user, strict_login_limit, target):
    user = make_user()
    db.session.commit()
    statuses = []
    for _ in range(4):
        if target == "page":
            response = client.post("/login", data={"username": user.username, "password": "wrong-password-1"})
        else:
            response = client.post("/api/v1/auth/token", json={"username": user.username, "password": "wrong-pw"})
        statuses.append(response.status_code)
    assert statuses == [422, 422, 422, 429] if target == "page" else [401, 401, 401, 429]
    if target == "api":
        assert response.json["code"] == 429
    # the limit holds even for the right password until the window passes
    if target == "page":
        blocked = client.post("/login", data={"username": user.username, "password": PASSWORD})
    else:
        blocked = client.post("/api/v1/auth/token", json={"username": user.username, "password": PASSWORD})
    assert blocked.status_code == 429


# --- the command line -----------------------------------------------------------------------------------


def run_cli(app, args, stdin=""):
    return app.test_cli_runner().invoke(args=args, input=stdin)


def test_users_create_reads_the_password_from_stdin(app, make_org):
    org = make_org()
    result = run_cli(
        app,
        ["users", "create", "cli-mediator", "--role", "mediator", "--organization", str(org.id), "--password-stdin"],
        "a-long-password-1\n",
    )
    assert result.exit_code == 0, result.output
    assert "created user cli-mediator" in result.output
    user = db.session.scalar(sa.select(User).where(User.username == "cli-mediator"))
    assert user.role == Role.mediator and user.organization_id == org.id
    assert user.password_hash.startswith("$argon2")
    result = run_cli(
        app,
        ["users", "create", "cli-registrar", "--role", "registry_admin", "--region", "130000", "--password-stdin"],
        "a-long-password-2\n",
    )
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["--role", "registry_admin"], "short\n", "password: 至少 10 个字符"),
        (["--role", "mediator", "--organization", "999999"], "a-long-password-1\n", "organization: 未知的组织"),
        (["--role", "mediator"], "a-long-password-1\n", "organization:"),
        (["--role", "coordinator", "--region", "999999"], "a-long-password-1\n", "region: 未知的行政区划代码"),
    ],
)
def test_users_create_fails_clearly(app, args, stdin, message):
    result = run_cli(app, ["users", "create", "cli-bad", *args, "--password-stdin"], stdin)
    assert result.exit_code == 2
    assert message in result.output
    assert db.session.scalar(sa.select(User.id).where(User.username == "cli-bad")) is None


def test_seed_reference_is_idempotent(app):
    count = db.session.scalar(sa.select(sa.func.count()).select_from(Region))
    first = run_cli(app, ["seed", "reference"])
    second = run_cli(app, ["seed", "reference"])
    assert first.exit_code == 0 and second.exit_code == 0, second.output
    assert "regions=0" in second.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Region)) == count
