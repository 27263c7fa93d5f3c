"""People, not logins (issue 13 point 8): the case timeline and the API's events name the person and the
organisation (张三（保定市竞秀区人民调解委员会）), never the login name; an expired transfer tells both sides."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from mediation_hub.auth.people import Person, person_for_user
from mediation_hub.core.actor import Role
from mediation_hub.extensions import db
from mediation_hub.notifications.models import Notification
from mediation_hub.transfers import service
from mediation_hub.transfers.tasks import expire_overdue_transfers


@pytest.fixture(autouse=True)
def _in_a_request(app):
    """Labels are translated for the request's language (Chinese by default)."""
    with app.test_request_context("/", method="POST"):
        yield


@pytest.fixture
def scene(make_org, make_user, make_mediator, make_routed_case):
    """A 保定 committee with 张三 (display name) and a Beijing committee whose user is linked to 李四 (mediator)."""
    hebei = make_org(name="保定市竞秀区人民调解委员会", region_code="130602")
    beijing = make_org(name="北京市朝阳区人名测试调解委员会", region_code="110105")
    sender = make_user(organization=hebei, username="bd_zhang01", display_name="张三")
    li_si = make_mediator(organization=beijing, name="李四")
    receiver = make_user(organization=beijing, username="bj_li02", mediator_id=li_si.id)
    case = make_routed_case(hebei, applicant="130602", respondent="110105")
    return {"hebei": hebei, "beijing": beijing, "sender": sender, "receiver": receiver, "case": case}


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("display_name", Person("王五", "保定市人名测试调解委员会")),
        ("mediator", Person("赵六", "保定市人名测试调解委员会")),
        ("display_name_and_mediator", Person("王五", "保定市人名测试调解委员会")),  # the account's own name first
        ("nobody", Person("调解员", "保定市人名测试调解委员会")),
        ("coordinator", Person("协调官员", "河北省")),
        ("admin", Person("系统管理员", None)),
    ],
)
def test_a_person_is_named_never_by_login(make_org, make_user, make_mediator, kind, expected):
    org = make_org(name="保定市人名测试调解委员会", region_code="130602")
    mediator = make_mediator(organization=org, name="赵六")
    kwargs = {
        "display_name": {"organization": org, "display_name": "王五"},
        "mediator": {"organization": org, "mediator_id": mediator.id},
        "display_name_and_mediator": {"organization": org, "display_name": "王五", "mediator_id": mediator.id},
        "nobody": {"organization": org},
        "coordinator": {"role": Role.coordinator, "region_code": "130000"},
        "admin": {"role": Role.admin},
    }[kind]
    user = make_user(username=f"login_{kind}", **kwargs)
    person = person_for_user(user.id)
    assert person == expected
    assert user.username not in person.label


def test_labels_and_the_system():
    assert Person("张三", "保定市竞秀区人民调解委员会").label == "张三（保定市竞秀区人民调解委员会）"
    assert person_for_user(None) == Person("系统")
    assert Person("系统").label == "系统"


def _transfer_and_accept(scene, request_transfer_as):
    transfer = request_transfer_as(scene["sender"], scene["case"], scene["beijing"], requested_on=date(2025, 9, 2))
    service.accept_transfer(scene["receiver"].to_actor(), transfer.id, answered_on=date(2025, 9, 3))
    db.session.commit()
    return transfer


def test_the_timeline_names_people_and_their_organisations(scene, request_transfer_as, signed_in):
    _transfer_and_accept(scene, request_transfer_as)

    page = signed_in(scene["receiver"]).get(f"/cases/{scene['case'].id}").get_data(as_text=True)
    timeline = page[page.index('<ol class="timeline">') :]
    timeline = timeline[: timeline.index("</ol>")]
    assert "张三（保定市竞秀区人民调解委员会）" in timeline  # requested the transfer
    assert "李四（北京市朝阳区人名测试调解委员会）" in timeline  # accepted it
    assert "bd_zhang01" not in timeline and "bj_li02" not in timeline


def test_the_api_events_carry_the_name_and_organisation(scene, request_transfer_as, api_as):
    _transfer_and_accept(scene, request_transfer_as)

    items = api_as(scene["receiver"]).get(f"/api/v1/cases/{scene['case'].id}/events").get_json()["items"]
    people = {(e["code"], e["actor_name"], e["actor_organization"], e["actor_user_id"]) for e in items}
    assert ("transfer_requested", "张三", "保定市竞秀区人民调解委员会", scene["sender"].id) in people
    assert ("transfer_accepted", "李四", "北京市朝阳区人名测试调解委员会", scene["receiver"].id) in people
    assert not any(e["actor_name"] in ("bd_zhang01", "bj_li02") for e in items)


def test_an_event_of_the_system_reads_as_the_system(scene, request_transfer_as, api_as):
    request_transfer_as(scene["sender"], scene["case"], scene["beijing"], requested_on=date(2025, 9, 29))
    expire_overdue_transfers(datetime(2025, 10, 10, 16, 30, tzinfo=UTC))  # past respond_by 2025-10-10
    db.session.commit()

    items = api_as(scene["sender"]).get(f"/api/v1/cases/{scene['case'].id}/events").get_json()["items"]
    expired = next(e for e in items if e["code"] == "transfer_expired")
    assert (expired["actor_name"], expired["actor_organization"], expired["actor_user_id"]) == ("系统", None, None)


@pytest.mark.parametrize("mode", ["transfer", "joint"])
def test_an_expired_request_tells_both_sides_once_each(scene, request_transfer_as, mode):
    transfer = request_transfer_as(
        scene["sender"], scene["case"], scene["beijing"], mode=mode, requested_on=date(2025, 9, 29)
    )  # respond_by 2025-10-10
    now = datetime(2025, 10, 10, 16, 30, tzinfo=UTC)  # 00:30 on 2025-10-11 in Shanghai
    assert expire_overdue_transfers(now) == 1
    assert expire_overdue_transfers(now) == 0
    service.escalate(transfer)  # however often it runs

    notices = db.session.scalars(
        sa.select(Notification).where(Notification.kind == f"{mode}_expired").order_by(Notification.id)
    ).all()
    assert [n.organization_id for n in notices] == [scene["hebei"].id, scene["beijing"].id]
    to_sender, to_receiver = (n.message for n in notices)
    assert scene["beijing"].name in to_sender and "2025-10-10" in to_sender and "仍由本组织承办" in to_sender
    assert scene["hebei"].name in to_receiver and "不能再接收或退回" in to_receiver
    assert all(n.link == f"/transfers/{transfer.id}" for n in notices)


def test_legal_aid_history_names_people_too(tongban_pair, make_officer, api_as, signed_in):
    """The same rule on the legal-aid page and API: who filed and who passed it on, by name."""
    from tests.factories_legal_aid import application_data

    tianjin, baoding = tongban_pair()
    tj_officer = make_officer(tianjin, username="tj_wang03", display_name="王芳")
    bd_officer = make_officer(baoding, username="bd_sun04", display_name="孙强")
    base = "/api/v1/legal-aid/applications"
    filed = api_as(tj_officer).post(base, json=application_data(tianjin.id, received_on="2025-09-10")).get_json()
    moved = api_as(tj_officer).post(f"{base}/{filed['id']}/transfer", json={"to_centre_id": baoding.id})
    assert moved.status_code == 200, moved.get_json()

    body = api_as(bd_officer).get(f"{base}/{filed['id']}").get_json()
    assert {(e["code"], e["actor"], e["actor_organization"]) for e in body["events"]} >= {
        ("filed", "王芳", tianjin.name),
        ("transferred", "王芳", tianjin.name),
    }
    assert (body["handovers"][0]["by"], body["handovers"][0]["by_organization"]) == ("王芳", tianjin.name)

    page = signed_in(bd_officer).get(f"/legal-aid/applications/{filed['id']}").get_data(as_text=True)
    assert f"王芳（{tianjin.name}）" in page
    history = page[page.index('<ol class="timeline la-history">') :]
    assert "tj_wang03" not in history and "王芳" in history
