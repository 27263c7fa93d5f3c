"""The audit log for administrators (issue 12, item 6): the /audit page and GET /api/v1/audit-log list entries
newest first, filtered by user (what the account did, what was tried under its name, what was done to it),
action and Asia/Shanghai dates; nobody but an administrator reads them."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from mediation_hub.audit.models import AuditEntry
from mediation_hub.core.actor import Role
from mediation_hub.extensions import db
from tests.factories import valid_id_number


@pytest.fixture
def entries(make_user):
    """Six entries of March 2020 (times in UTC; Shanghai is UTC+8):

    e1  alice  sign_in                03-01 01:00Z  (Shanghai 03-01 09:00)
    e2  alice  reveal_id_number       03-01 17:00Z  (Shanghai 03-02 01:00)
    e3  —      sign_in_failed "alice" 03-02 03:00Z  (Shanghai 03-02 11:00)
    e4  admin  user_deactivated alice 03-03 02:00Z  (Shanghai 03-03 10:00)
    e5  bob    personal_data_exported 03-02 05:00Z  (Shanghai 03-02 13:00)
    e6  bob    sign_in                03-04 00:00Z  (Shanghai 03-04 08:00)
    """
    tag = uuid.uuid4().hex[:6]
    alice = make_user(username=f"alice-{tag}")
    bob = make_user(role=Role.coordinator, username=f"bob-{tag}")
    admin = make_user(role=Role.admin, username=f"admin-{tag}")

    def entry(user, action, at, username=None, **kwargs):
        row = AuditEntry(
            user_id=user.id if user else None,
            username=username or user.username,
            action=action,
            at=datetime(2020, *at, tzinfo=UTC),
            **kwargs,
        )
        db.session.add(row)
        return row

    rows = {
        "e1": entry(alice, "sign_in", (3, 1, 1), remote_addr="10.0.0.1"),
        "e2": entry(alice, "reveal_id_number", (3, 1, 17), target_type="party", target_id="7"),
        "e3": entry(None, "sign_in_failed", (3, 2, 3), username=alice.username),
        "e4": entry(
            admin,
            "user_deactivated",
            (3, 3, 2),
            target_type="user",
            target_id=str(alice.id),
            detail={"before": {"active": True}, "after": {"active": False}, "tokens_revoked": 1, "sessions_revoked": 0},
        ),
        "e5": entry(bob, "personal_data_exported", (3, 2, 5), target_type="case_list"),
        "e6": entry(bob, "sign_in", (3, 4, 0)),
    }
    db.session.commit()
    ids = {row.id: name for name, row in rows.items()}
    return {"alice": alice.username, "bob": bob.username, "admin": admin, "ids": ids}


MARCH = "date_from=2020-03-01&date_to=2020-03-04"
FILTERS = [
    ("user={alice}", ["e4", "e3", "e2", "e1"]),
    ("user={bob}", ["e6", "e5"]),
    (f"action=sign_in&{MARCH}", ["e6", "e1"]),
    ("user={alice}&action=sign_in_failed", ["e3"]),
    # one Shanghai day: 03-02 00:00 to 24:00 Shanghai is 03-01 16:00Z to 03-02 16:00Z
    ("date_from=2020-03-02&date_to=2020-03-02", ["e5", "e3", "e2"]),
    ("date_from=2020-03-01&date_to=2020-03-01", ["e1"]),
    ("user={bob}&date_from=2020-03-03", ["e6"]),
]


def fill(query: str, world: dict) -> str:
    return query.format(alice=world["alice"], bob=world["bob"])


@pytest.mark.parametrize(("query", "expected"), FILTERS)
def test_the_api_filters(api_as, entries, query, expected):
    api = api_as(entries["admin"])
    body = api.get(f"/api/v1/audit-log?{fill(query, entries)}").json
    assert [entries["ids"].get(item["id"]) for item in body["items"]] == expected
    assert body["total"] == len(expected) and body["page"] == 1


@pytest.mark.parametrize(("query", "expected"), FILTERS)
def test_the_page_filters(signed_in, entries, query, expected):
    actions = {
        "e1": "sign_in",
        "e2": "reveal_id_number",
        "e3": "sign_in_failed",
        "e4": "user_deactivated",
        "e5": "personal_data_exported",
        "e6": "sign_in",
    }
    html = signed_in(entries["admin"]).get(f"/audit?{fill(query, entries)}").get_data(as_text=True)
    assert re.findall(r'<tr data-action="([a-z_]+)">', html) == [actions[e] for e in expected]
    assert f"共 {len(expected)} 条" in html


def test_an_entry_as_the_api_gives_it(api_as, entries):
    body = api_as(entries["admin"]).get(f"/api/v1/audit-log?user={entries['alice']}&action=user_deactivated").json
    [item] = body["items"]
    assert item == {
        "id": item["id"],
        "at": "2020-03-03T02:00:00+00:00",
        "user_id": entries["admin"].id,
        "username": entries["admin"].username,
        "action": "user_deactivated",
        "action_label": "停用账户",
        "target_type": "user",
        "target_id": item["target_id"],
        "remote_addr": None,
        "detail": {"before": {"active": True}, "after": {"active": False}, "tokens_revoked": 1, "sessions_revoked": 0},
    }


def test_the_page_shows_labels_local_times_accounts_and_changes(signed_in, entries):
    html = signed_in(entries["admin"]).get(f"/audit?user={entries['alice']}").get_data(as_text=True)
    assert "停用账户" in html and "登录失败" in html and "查看完整身份证号码" in html
    assert "2020-03-03 10:00" in html  # 02:00 UTC shown in Asia/Shanghai
    assert f"账户 {entries['alice']}" in html  # the account the change was made to, by name
    assert "before: active=True；after: active=False；tokens_revoked: 1；sessions_revoked: 0" in html
    # the action filter lists the registered actions by their Chinese names
    assert '<option value="password_changed">修改密码</option>' in html


def test_pages_of_the_log(api_as, signed_in, entries):
    api = api_as(entries["admin"])
    first = api.get(f"/api/v1/audit-log?user={entries['alice']}&per_page=3").json
    second = api.get(f"/api/v1/audit-log?user={entries['alice']}&per_page=3&page=2").json
    assert (first["total"], len(first["items"]), len(second["items"])) == (4, 3, 1)
    assert entries["ids"][second["items"][0]["id"]] == "e1"


@pytest.mark.parametrize(
    ("query", "location", "field"),
    [
        # a service's refusal of a GET names the query too (the filters are query parameters)
        ("date_from=2020-03-04&date_to=2020-03-01", "query", "date_to"),
        ("action=no_such_action", "query", "action"),
        ("date_from=2020-13-45", "query", "date_from"),
    ],
)
def test_the_api_refuses_bad_filters_naming_the_field(api_as, entries, query, location, field):
    response = api_as(entries["admin"]).get(f"/api/v1/audit-log?{query}")
    assert response.status_code == 422
    assert list(response.json["errors"][location]) == [field]


@pytest.mark.parametrize(
    ("query", "message", "shown"),
    [
        # the end before the start: the end is dropped, alice's entries from 03-03 on remain (e4)
        ("user={alice}&date_from=2020-03-03&date_to=2020-03-01", "结束日期不能早于开始日期", 1),
        ("user={alice}&date_from=2020-13-45", "请按 年-月-日 填写日期", 4),
    ],
)
def test_the_page_shows_a_bad_filter_beside_its_field_and_drops_it(signed_in, entries, query, message, shown):
    response = signed_in(entries["admin"]).get(f"/audit?{fill(query, entries)}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and message in html
    assert f"共 {shown} 条" in html  # the other filters still apply


@pytest.mark.parametrize("role", [Role.registry_admin, Role.coordinator, Role.mediator, Role.legal_aid_officer])
def test_only_administrators_read_the_log(api_as, signed_in, make_user, entries, role):
    user = make_user(role=role)
    assert api_as(user).get("/api/v1/audit-log").status_code == 403
    browser = signed_in(user)
    assert browser.get("/audit").status_code == 403
    assert 'href="/audit"' not in browser.get("/notifications/").get_data(as_text=True)


def test_anonymous_callers_are_sent_away(client, entries):
    assert client.get("/api/v1/audit-log").status_code == 401
    response = client.get("/audit")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_administrators_find_the_log_in_the_navigation(signed_in, entries):
    html = signed_in(entries["admin"]).get("/notifications/").get_data(as_text=True)
    assert 'href="/audit"' in html and "审计日志" in html


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("13812345678", "138****5678"),
        (valid_id_number(sequence=123), None),  # an ID number typed as the name: never kept whole
        ("王一13812345678", "王一138****5678"),
        ("010-65123456", "010****3456"),  # a fixed line typed whole
        ("alice", "alice"),
    ],
)
def test_a_number_typed_as_the_username_is_audited_masked(client, typed, kept):
    """Whatever is typed as the username of a failed sign-in is kept in the audit log, but an ID number or a
    phone number typed there (someone's own, by mistake) is kept masked."""
    client.post("/login", data={"username": typed, "password": "wrong-password-1"})
    entry = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.action == "sign_in_failed").order_by(AuditEntry.id.desc())
    ).first()
    assert entry is not None and "13812345678" not in entry.username and "19800517" not in entry.username
    if kept is not None:
        assert entry.username == kept
