"""The case page's long texts in the browser (issue 13 point 5): the session record, the agreement terms and the
follow-up count their characters against the one limit (5000), as the registration's summary does."""

from __future__ import annotations

import uuid

import pytest

from mediation_hub.cases.models import CaseStatus
from mediation_hub.core.actor import SYSTEM
from mediation_hub.extensions import db
from mediation_hub.registry import service as registry
from tests.browser_steps import PASSWORD, committed_mediator, open_action

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(
    ("status", "action", "field"),
    [
        (CaseStatus.in_mediation, "record_session", "summary"),
        (CaseStatus.in_mediation, "conclude", "terms"),
        (CaseStatus.concluded, "record_follow_up", "summary"),
    ],
    ids=["session", "terms", "follow_up"],
)
def test_the_case_page_counts_characters(page, sign_in, make_case, status, action, field):
    org_id, username, _ = committed_mediator(uuid.uuid4().hex[:6])
    case = make_case(registry.get_organization(SYSTEM, org_id), status)
    case_id = case.id
    db.session.commit()
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(username, PASSWORD)
    page.goto(f"/cases/{case_id}")
    panel = open_action(page, action)
    counter = panel.locator(f"[data-field='{field}'] .char-counter")
    assert counter.inner_text() == "已输入 0 / 5000 字"
    area = panel.locator(f"textarea[name='{action}-{field}']")
    area.fill("双方当面协商\n达成一致")
    assert counter.inner_text() == "已输入 11 / 5000 字"  # 6 + the line break + 4
    area.fill("字" * 5001)
    assert counter.inner_text() == "已输入 5001 / 5000 字，超出 1 字"
    assert "over" in counter.get_attribute("class")
