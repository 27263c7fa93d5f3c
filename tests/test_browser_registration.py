"""Registration in the browser (issue 13 point 5), on a desktop and on a phone (390×844): a possible duplicate
is shown before anything is saved, and "仍然登记" saves; after a refused submit the region pickers come back as
the chain of names chosen, never a raw code box; the summary's counter. Data is committed (browser tests)."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from mediation_hub.cases import service
from mediation_hub.cases.models import Case
from mediation_hub.core.actor import SYSTEM
from mediation_hub.core.shanghai import today_shanghai
from mediation_hub.extensions import db
from tests.browser_steps import PASSWORD, committed_mediator, pick_region, screenshot, wait_for_region_pickers
from tests.factories import valid_id_number
from tests.factories_cases import case_data, person

pytestmark = pytest.mark.browser

VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


def _cases_of(org_id: int) -> list[str]:
    numbers = list(db.session.scalars(sa.select(Case.number).where(Case.organization_id == org_id)))
    db.session.commit()  # end the read: an open transaction would hold SQLite's lock against the live server
    return numbers


def _fill_registration(page, tag: str, applicant_id: str, *, summary: str | None = None) -> None:
    page.goto("/cases/new")
    page.select_option("#category", "neighbour")
    page.select_option("#source", "party_application")
    page.fill("#summary", summary or f"楼上漏水，协商未果 {tag}")
    pick_region(page, "[data-field='occurred_region_code']", ["110000", "110100", "110105"])
    applicant = page.locator("fieldset[data-party-index='0']")
    applicant.locator("input[name='parties-0-name']").fill(f"张申请{tag}")
    applicant.locator("input[name='parties-0-number']").fill(applicant_id)
    pick_region(page, "fieldset[data-party-index='0']", ["130000", "130600", "130602"])
    page.locator("input[name='parties-1-name']").fill(f"李被申{tag}")


def _chosen_names(page, scope: str) -> list[str]:
    """The names selected in a region picker's cascading selects, the raw code box being hidden."""
    picker = page.locator(f"{scope} .region-picker")
    wait_for_region_pickers(page)
    assert picker.locator("input.region-code").is_hidden()
    selects = picker.locator("select")
    return [
        selects.nth(i).evaluate("s => s.options[s.selectedIndex].text")
        for i in range(selects.count())
        if selects.nth(i).input_value()
    ]


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=list(VIEWPORTS))
def test_a_possible_duplicate_is_shown_before_saving_and_registering_anyway_saves(page, sign_in, viewport):
    tag = uuid.uuid4().hex[:6]
    org_id, username, _ = committed_mediator(tag)
    applicant_id = valid_id_number("110105", sequence=int(uuid.uuid4().int % 1000))
    earlier, _ = service.register_case(
        SYSTEM,
        case_data(
            org_id,
            received_on=today_shanghai(),
            parties=[
                person("applicant", name=f"张申请{tag}", id_number=applicant_id),
                person("respondent", name="某物业"),
            ],
        ),
    )
    earlier_number = earlier.number
    db.session.commit()
    page.set_viewport_size(VIEWPORTS[viewport])
    sign_in(username, PASSWORD)

    _fill_registration(page, tag, applicant_id)
    page.click("button[type=submit].primary:has-text('登记')")
    warning = page.locator("#duplicate-warning")
    warning.wait_for()
    assert _cases_of(org_id) == [earlier_number]  # nothing saved yet
    text = warning.inner_text()
    assert earlier_number in text and today_shanghai().isoformat() in text and "已登记" in text
    assert applicant_id not in warning.inner_html()  # the other case's parties are masked
    assert applicant_id[:6] + "********" + applicant_id[-4:] in text
    # the form kept what was typed, the regions as names
    assert page.input_value("#summary") == f"楼上漏水，协商未果 {tag}"
    assert _chosen_names(page, "[data-field='occurred_region_code']") == ["北京市", "市辖区", "朝阳区"]
    assert _chosen_names(page, "fieldset[data-party-index='0']") == ["河北省", "保定市", "竞秀区"]
    screenshot(page, f"registration-duplicate-warning-{viewport}")

    warning.locator("button.confirm-duplicate").click()
    page.wait_for_selector("h1 .case-number")
    number = page.inner_text("h1 .case-number")
    assert sorted(_cases_of(org_id)) == sorted([earlier_number, number])
    assert page.locator("p.flash.warning a").inner_text() == earlier_number


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=list(VIEWPORTS))
def test_after_a_refused_submit_the_region_pickers_show_names(page, sign_in, viewport):
    tag = uuid.uuid4().hex[:6]
    org_id, username, _ = committed_mediator(tag)
    page.set_viewport_size(VIEWPORTS[viewport])
    sign_in(username, PASSWORD)
    _fill_registration(page, tag, "110105198005170001")  # a wrong check digit: refused (422)
    page.fill("#amount_yuan", "3.500.00")
    page.click("button[type=submit].primary:has-text('登记')")
    page.wait_for_selector(".field.has-error")
    assert _cases_of(org_id) == []
    assert "金额只能有一个小数点" in page.inner_text(".field[data-field='amount_yuan']")
    assert _chosen_names(page, "[data-field='occurred_region_code']") == ["北京市", "市辖区", "朝阳区"]
    assert _chosen_names(page, "fieldset[data-party-index='0']") == ["河北省", "保定市", "竞秀区"]
    # a party region never chosen stays an empty select, not a code box
    assert _chosen_names(page, "fieldset[data-party-index='1']") == []

    # corrected, it registers with the regions still chosen
    page.fill("input[name='parties-0-number']", valid_id_number())
    page.fill("#amount_yuan", "３，５００。００")
    page.click("button[type=submit].primary:has-text('登记')")
    page.wait_for_selector("h1 .case-number")
    assert "3500.00" in page.inner_text("main")


def test_the_summary_counts_its_characters(page, sign_in):
    tag = uuid.uuid4().hex[:6]
    _, username, _ = committed_mediator(tag)
    sign_in(username, PASSWORD)
    page.goto("/cases/new")
    counter = page.locator("[data-field='summary'] .char-counter")
    assert counter.inner_text() == "已输入 0 / 5000 字"
    page.fill("#summary", "邻里漏水纠纷")
    assert counter.inner_text() == "已输入 6 / 5000 字"
    page.fill("#summary", "字" * 5003)
    assert counter.inner_text() == "已输入 5003 / 5000 字，超出 3 字"
    assert "over" in counter.get_attribute("class")
