"""The federation page in the browser: an administrator opens 平台互联 from the menu, finds the peer hub and a
message that could not be delivered to it, sends it again and sees it queued (desktop and a 390×844 phone).

Sending itself is tests/test_federation_hubs.py's: here the sender thread is off, so the message stays queued."""

from __future__ import annotations

import base64
import uuid

import pytest
from playwright.sync_api import expect

from mediation_hub.auth.service import create_user
from mediation_hub.core.actor import SYSTEM, Role
from mediation_hub.core.db import utcnow
from mediation_hub.extensions import db
from mediation_hub.federation import service
from mediation_hub.federation.models import OutboxMessage, OutboxStatus
from tests.browser_steps import PASSWORD, screenshot

pytestmark = pytest.mark.browser
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_administrator_sends_an_undeliverable_message_again(app, page, sign_in, monkeypatch, viewport):
    monkeypatch.setitem(app.config, "FEDERATION_SEND_AT_ONCE", False)
    tag = uuid.uuid4().hex[:6]
    admin, peer, message_id = f"admin-{tag}", f"tianjin-{tag}", f"msg_browser_{tag}"
    create_user(SYSTEM, username=admin, password=PASSWORD, role=Role.admin)
    service.add_peer(peer, "http://127.0.0.1:9", "whsec_" + base64.b64encode(uuid.uuid4().bytes * 2).decode())
    db.session.add(
        OutboxMessage(
            id=message_id,
            to_hub=peer,
            type="case.handover",
            version=1,
            conversation_id=f"transfer/hub/{tag}",
            sequence=1,
            envelope={"id": message_id, "type": "case.handover"},
            status=OutboxStatus.undeliverable,
            attempts=14,
            last_attempt_at=utcnow(),
            last_error="connect_failed: 无法连接接收方",
        )
    )
    db.session.commit()
    db.session.close()  # and read nothing more here: an open read would hold SQLite's shared lock

    page.set_viewport_size(VIEWPORTS[viewport])
    sign_in(admin, PASSWORD)
    if viewport == "phone":
        page.locator("label.nav-toggle-label").click()  # the menu folds away on a phone
    page.get_by_role("navigation").get_by_role("link", name="平台互联").click()
    page.wait_for_load_state("networkidle")
    expect(page.get_by_role("heading", name="平台互联", level=1)).to_be_visible()

    peer_row = page.locator(f"tr.peer[data-hub='{peer}']")
    expect(peer_row).to_be_visible()
    assert peer_row.locator("td.undeliverable").inner_text() == "1"
    assert peer_row.locator("td.queued").inner_text() == "0"
    message_row = page.locator(f"tr.message[data-message-id='{message_id}']")
    assert "无法送达" in message_row.inner_text() and "案卷移交" in message_row.inner_text()
    assert message_row.locator("td.attempts").inner_text() == "14"
    if viewport == "phone":  # the tables scroll inside their own box, not the page
        assert page.evaluate("document.documentElement.scrollWidth") <= VIEWPORTS["phone"]["width"]
    screenshot(page, f"federation-set-aside-{viewport}")

    message_row.get_by_role("button", name="重新发送").click()
    page.wait_for_load_state("networkidle")
    expect(page.locator(".flash.success")).to_have_text(f"消息 {message_id} 已重新排队，将发往 {peer} 平台")
    assert page.locator(f"tr.message[data-message-id='{message_id}']").count() == 0
    assert peer_row.locator("td.queued").inner_text() == "1"
    assert peer_row.locator("td.undeliverable").inner_text() == "0"
    screenshot(page, f"federation-sent-again-{viewport}")

    assert db.session.get(OutboxMessage, message_id).status == OutboxStatus.pending
    db.session.close()
