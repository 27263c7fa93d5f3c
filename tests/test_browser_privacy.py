"""What an administrator does in the browser for one person's request: look the person up by ID number, see
where they appear (masked), download a copy, erase it after confirming, and find nothing left."""

from __future__ import annotations

import json
import random
import uuid
from datetime import date

import pytest
from playwright.sync_api import expect

from mediation_hub.auth.service import create_user
from mediation_hub.cases.models import CaseStatus
from mediation_hub.core.actor import SYSTEM, Role
from mediation_hub.extensions import db
from mediation_hub.legal_aid.models import ApplicationStatus
from tests.factories import valid_id_number
from tests.factories_cases import person

pytestmark = pytest.mark.browser
PASSWORD = "browser-pass-2026"


def test_admin_exports_then_erases_one_persons_data(page, sign_in, make_org, make_case, make_application):
    tag = uuid.uuid4().hex[:6]
    number = valid_id_number("130602", date(1985, 6, 1), sequence=random.randrange(1000))
    masked = number[:6] + "********" + number[-4:]
    name = f"浏览器当事人{tag}"
    case = make_case(
        make_org(),
        CaseStatus.concluded,
        parties=[person("applicant", name, id_number=number, phone="13655556666"), person("respondent")],
    )
    application, *_ = make_application(
        ApplicationStatus.refused,
        applicant={"name": name, "id_number": number, "phone": "13655556666", "region_code": "130602"},
    )
    username = f"admin-{tag}"
    create_user(SYSTEM, username=username, password=PASSWORD, role=Role.admin)
    db.session.commit()
    case_id, case_number, application_number = case.id, case.number, application.number
    sign_in(username, PASSWORD)

    # look the person up from the navigation
    page.get_by_role("navigation").get_by_role("link", name="个人信息请求").click()
    page.fill("#id_number", number)
    page.click("button:has-text('查找')")
    page.wait_for_selector("#person-result")
    assert page.inner_text("#person-masked") == masked
    parties = page.inner_text("#records-parties")
    assert case_number in parties and name in parties and masked in parties and "136****6666" in parties
    assert application_number in page.inner_text("#records-applications")
    assert number not in page.content()
    page.set_viewport_size({"width": 390, "height": 844})  # on a phone the tables scroll, not the page
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.set_viewport_size({"width": 1280, "height": 900})

    # a copy of the data, with the full numbers
    with page.expect_download() as download:
        page.click("#export-json")
    copy = json.loads(open(download.value.path(), encoding="utf-8").read())  # noqa: SIM115
    assert [p["id_number"] for p in copy["parties"]] == [number]
    assert copy["legal_aid_applications"][0]["phone"] == "13655556666"

    # erase, which asks first
    page.click("#erase-start")
    page.wait_for_selector("h1:has-text('确认删除')")
    assert masked in page.inner_text("h1") and case_number in page.inner_text("#records-parties")
    page.click("#erase-confirm")  # not ticked: the browser itself holds the form back
    assert page.evaluate("document.querySelector('#confirm').validity.valueMissing")
    expect(page.locator("h1:has-text('确认删除')")).to_be_visible()
    page.check("#confirm")
    page.click("#erase-confirm")
    page.wait_for_selector(".flash.success")
    assert f"已删除 {masked} 的个人信息：当事人 1 条（1 件案件）、调解员 0 条、法律援助申请 1 条" in page.inner_text(
        ".flash.success"
    )

    # nothing is found any more; the case is still there, its applicant shown as erased
    page.fill("#id_number", number)
    page.click("button:has-text('查找')")
    page.wait_for_selector("#person-none")
    page.goto(f"/cases/{case_id}")
    parties_table = page.inner_text("table:has-text('证件号码')")
    assert "已删除" in parties_table and name not in parties_table and masked not in parties_table
