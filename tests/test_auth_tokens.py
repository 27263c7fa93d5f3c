"""Bearer tokens: issued for a password, refused when expired, revoked, wrong or missing (401 with the
one JSON error shape), revocable with DELETE; each issue recorded in the audit log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from mediation_hub.audit.models import AuditEntry
from mediation_hub.auth.service import issue_token, revoke_token, user_for_token
from mediation_hub.core.actor import Role
from mediation_hub.extensions import db
from tests.factories import PASSWORD


def assert_401(response, *, challenge: bool = True) -> None:
    assert response.status_code == 401
    assert response.is_json
    body = response.json
    assert body["code"] == 401 and body["status"] == "Unauthorized" and body["message"]
    if challenge:  # the bearer guard says which scheme it wants
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_password_gives_a_token_that_works(client, make_user):
    user = make_user(role=Role.admin)
    db.session.commit()
    before = datetime.now(UTC)
    response = client.post("/api/v1/auth/token", json={"username": user.username, "password": PASSWORD})
    assert response.status_code == 201
    body = response.json
    assert body["token_type"] == "Bearer" and len(body["access_token"]) >= 40
    expires = datetime.fromisoformat(body["expires_at"])
    assert timedelta(hours=11, minutes=59) < expires - before <= timedelta(hours=12, minutes=1)  # TOKEN_TTL 12 h
    ok = client.get("/api/v1/organizations", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert ok.status_code == 200
    entry = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.action == "token_issued", AuditEntry.user_id == user.id)
    ).one()
    assert entry.username == user.username and before - timedelta(seconds=5) <= entry.at <= datetime.now(UTC)
    assert entry.at.utcoffset() == timedelta(0)
    assert body["access_token"] not in repr(entry.detail)


def test_wrong_password_gives_401_and_an_audited_failure(client, make_user):
    user = make_user()
    db.session.commit()
    response = client.post("/api/v1/auth/token", json={"username": user.username, "password": "not-the-password"})
    assert_401(response, challenge=False)
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "sign_in_failed", AuditEntry.username == user.username)
        )
        == 1
    )


def _token_for(make_user, ttl=timedelta(hours=1)):
    user = make_user(role=Role.admin)
    clear, token = issue_token(user, ttl)
    db.session.commit()
    return clear, token


@pytest.mark.parametrize("case", ["expired", "revoked", "wrong", "missing", "not_bearer"])
def test_unusable_tokens_are_401(client, make_user, case):
    clear, token = _token_for(make_user, ttl=timedelta(seconds=-1) if case == "expired" else timedelta(hours=1))
    if case == "revoked":
        revoke_token(token.user.to_actor(), token.id)
        db.session.commit()
    headers = {
        "expired": {"Authorization": f"Bearer {clear}"},
        "revoked": {"Authorization": f"Bearer {clear}"},
        "wrong": {"Authorization": f"Bearer {clear[:-2]}xx"},
        "missing": {},
        "not_bearer": {"Authorization": f"Basic {clear}"},
    }[case]
    assert_401(client.get("/api/v1/mediators", headers=headers))


def test_token_expiry_is_checked_against_the_clock(make_user):
    clear, token = _token_for(make_user, ttl=timedelta(minutes=10))
    assert user_for_token(clear, now=token.expires_at - timedelta(seconds=1)) is not None
    assert user_for_token(clear, now=token.expires_at) is None


def test_delete_revokes_the_presented_token(client, make_user):
    clear, token = _token_for(make_user)
    headers = {"Authorization": f"Bearer {clear}"}
    assert client.get("/api/v1/studios", headers=headers).status_code == 200
    response = client.delete("/api/v1/auth/token", headers=headers)
    assert response.status_code == 204
    assert_401(client.get("/api/v1/studios", headers=headers))
    db.session.refresh(token)
    assert token.revoked_at is not None
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "token_revoked", AuditEntry.target_id == str(token.id))
        )
        == 1
    )


def test_tokens_are_stored_hashed(make_user):
    clear, token = _token_for(make_user)
    assert clear not in token.token_hash and len(token.token_hash) == 64


def test_inactive_user_token_is_401(client, make_user):
    clear, token = _token_for(make_user)
    token.user.active = False
    db.session.commit()
    assert_401(client.get("/api/v1/organizations", headers={"Authorization": f"Bearer {clear}"}))
