"""Notifications: who sees which notice, marking them read, the list page and the unread count."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from mediation_hub.core.actor import Role
from mediation_hub.extensions import db
from mediation_hub.notifications.models import Notification
from mediation_hub.notifications.service import mark_all_read, mark_read, notifications_for, notify, unread_count


@pytest.fixture
def notices(make_org, make_user):
    """One notice for each kind of addressee."""
    org, other_org = make_org(region_code="130602"), make_org(region_code="110105")
    mediator = make_user(role=Role.mediator, organization=org)
    colleague = make_user(role=Role.mediator, organization=org)
    made = {
        "to_mediator": notify(kind="t", message="给调解员本人", user_id=mediator.id, link="/cases/1"),
        "to_colleague": notify(kind="t", message="给同事本人", user_id=colleague.id),
        "to_org": notify(kind="t", message="给本组织", organization_id=org.id),
        "to_other_org": notify(kind="t", message="给北京组织", organization_id=other_org.id),
        "to_hebei": notify(kind="t", message="河北省协调", region_code="130000"),
        "to_baoding": notify(kind="t", message="保定市协调", region_code="130600"),
        "to_beijing": notify(kind="t", message="北京市协调", region_code="110000"),
    }
    return {"mediator": mediator, "colleague": colleague, "org": org, **{k: v.id for k, v in made.items()}}


def _messages(actor, **kwargs):
    return sorted(n.message for n in db.session.scalars(notifications_for(actor, **kwargs)))


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("mediator", ["给调解员本人", "给本组织"]),
        ("colleague", ["给同事本人", "给本组织"]),
        ("coordinator_hebei", ["保定市协调", "河北省协调"]),  # the region subtree of 130000
        ("coordinator_baoding", ["保定市协调"]),  # not the province's notice
        ("coordinator_national", ["保定市协调", "北京市协调", "河北省协调"]),
        ("admin", []),  # admins get notices addressed to them only
    ],
)
def test_who_sees_which_notice(notices, make_user, who, expected):
    users = {
        "mediator": lambda: notices["mediator"],
        "colleague": lambda: notices["colleague"],
        "coordinator_hebei": lambda: make_user(role=Role.coordinator, region_code="130000"),
        "coordinator_baoding": lambda: make_user(role=Role.coordinator, region_code="130600"),
        "coordinator_national": lambda: make_user(role=Role.coordinator),
        "admin": lambda: make_user(role=Role.admin),
    }
    actor = users[who]().to_actor()
    assert _messages(actor) == sorted(expected)
    assert unread_count(actor) == len(expected)


def test_marking_read_is_shared_by_the_organisation_and_keeps_the_first_time(notices):
    mediator, colleague = notices["mediator"].to_actor(), notices["colleague"].to_actor()
    first = mark_read(mediator, notices["to_org"]).read_at
    assert first is not None
    assert mark_read(colleague, notices["to_org"]).read_at == first  # read for the whole organisation
    assert _messages(colleague, unread_only=True) == ["给同事本人"]
    from mediation_hub.errors import NotFound

    with pytest.raises(NotFound):
        mark_read(mediator, notices["to_colleague"])  # another person's notice


def test_mark_all_read_touches_only_the_actors_notices(notices):
    mediator = notices["mediator"].to_actor()
    assert mark_all_read(mediator) == 2
    assert unread_count(mediator) == 0
    assert unread_count(notices["colleague"].to_actor()) == 1  # 给同事本人 still unread
    unread = db.session.scalars(sa.select(Notification.message).where(Notification.read_at.is_(None))).all()
    assert sorted(unread) == ["保定市协调", "北京市协调", "河北省协调", "给北京组织", "给同事本人"]


# --- API ------------------------------------------------------------------------------------------------


def test_api_lists_and_marks_read(api_as, notices):
    api = api_as(notices["mediator"])
    body = api.get("/api/v1/notifications").get_json()
    assert body["total"] == 2 and {n["message"] for n in body["items"]} == {"给调解员本人", "给本组织"}
    assert body["items"][0]["read"] is False and body["items"][0]["read_at"] is None
    response = api.post(f"/api/v1/notifications/{notices['to_org']}/read")
    assert response.status_code == 200
    read = response.get_json()
    assert read["read"] is True and read["read_at"] is not None and read["organization_id"] == notices["org"].id
    again = api.post(f"/api/v1/notifications/{notices['to_org']}/read").get_json()
    assert again["read_at"] == read["read_at"]
    unread = api.get("/api/v1/notifications?unread=true").get_json()
    assert [n["message"] for n in unread["items"]] == ["给调解员本人"]
    assert api.post(f"/api/v1/notifications/{notices['to_beijing']}/read").status_code == 404
    assert api.post("/api/v1/notifications/999999/read").status_code == 404


def test_api_needs_a_token(client):
    assert client.get("/api/v1/notifications").status_code == 401


# --- pages ----------------------------------------------------------------------------------------------


def test_layout_shows_the_unread_count_and_the_page_lists_notices(signed_in, notices):
    client = signed_in(notices["mediator"])
    html = client.get("/notifications/").get_data(as_text=True)
    assert "通知 (2)" in html
    assert "给调解员本人" in html and "给本组织" in html and "给北京组织" not in html
    response = client.post(f"/notifications/{notices['to_org']}/read")
    assert response.status_code == 302
    html = client.get("/notifications/?unread=1").get_data(as_text=True)
    assert "通知 (1)" in html and "给本组织" not in html and "给调解员本人" in html


def test_opening_a_notice_marks_it_read_and_follows_only_links_inside_the_hub(signed_in, notices, make_user):
    client = signed_in(notices["mediator"])
    response = client.post(f"/notifications/{notices['to_mediator']}/read", data={"open": "1"})
    assert response.status_code == 302 and response.headers["Location"] == "/cases/1"
    outside = notify(kind="t", message="外链", user_id=notices["mediator"].id, link="//evil.example/x")
    response = client.post(f"/notifications/{outside.id}/read", data={"open": "1"})
    assert response.headers["Location"].endswith("/notifications/")
    assert client.post(f"/notifications/{notices['to_colleague']}/read").status_code == 404


def test_read_all_from_the_page(signed_in, notices):
    client = signed_in(notices["mediator"])
    response = client.post("/notifications/read-all", follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "已将 2 条通知标为已读" in html and "通知 (0)" in html


def test_the_page_is_in_the_navigation(signed_in, make_user):
    html = signed_in(make_user(role=Role.legal_aid_officer)).get("/notifications/").get_data(as_text=True)
    assert '<a href="/notifications/" aria-current="page">通知</a>' in html and "没有通知" in html
