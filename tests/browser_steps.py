"""Shared by the browser tests: the committed accounts a test starts from, and steps a person takes in the
browser (choosing a region in the cascading picker, opening an action panel on the case page, keeping a
full-page screenshot). Plain functions; the fixtures themselves live in tests/browser.py."""

from __future__ import annotations

import uuid
from pathlib import Path

from mediation_hub.auth.service import create_user
from mediation_hub.core.actor import SYSTEM, Role
from mediation_hub.extensions import db
from mediation_hub.registry import service as registry
from mediation_hub.registry.models import OrgKind
from tests.factories import valid_id_number

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"  # gitignored
PASSWORD = "browser-pass-2026"


# --- the starting world (committed: the live server reads it from its own connections) --------------------


def committed_mediator(tag: str, region_code: str = "110105") -> tuple[int, str, str]:
    """An organisation (朝阳区 by default) with one registered mediator and a mediator account; committed.
    Returns (organisation id, username, mediator name)."""
    org = registry.create_organization(
        SYSTEM,
        {"name": f"浏览器测试调解委员会{tag}", "kind": OrgKind.people_mediation_committee, "region_code": region_code},
    )
    mediator = registry.create_mediator(
        SYSTEM,
        {"name": f"赵调解{tag}", "organization_id": org.id, "id_number": valid_id_number(), "phone": "13800002222"},
    )
    username = f"med-{tag}"
    create_user(
        SYSTEM,
        username=username,
        password=PASSWORD,
        role=Role.mediator,
        organization_id=org.id,
        mediator_id=mediator.id,
    )
    org_id, mediator_name = org.id, mediator.name
    db.session.commit()  # read nothing afterwards: an open read would hold SQLite's lock against the server
    return org_id, username, mediator_name


def committed_officer(centre_id: int) -> str:
    """A legal-aid officer account of a centre; committed. Returns the username."""
    username = f"la-{uuid.uuid4().hex[:8]}"
    create_user(SYSTEM, username=username, password=PASSWORD, role=Role.legal_aid_officer, organization_id=centre_id)
    db.session.commit()
    return username


# --- steps in the browser -----------------------------------------------------------------------------------


def pick_region(page, scope: str, codes: list[str]) -> None:
    """Choose province, prefecture, county … in the cascading selects of the region picker inside ``scope``,
    one level after the other, waiting for each level's options to arrive as a person would."""
    for level, code in enumerate(codes):
        selector = f"{scope} .region-picker select[data-level='{level}']"
        page.locator(selector).wait_for()
        page.wait_for_function(
            "([sel, code]) => !!document.querySelector(sel + ' option[value=\"' + code + '\"]')", arg=[selector, code]
        )
        page.select_option(selector, code)
    wait_for_region_pickers(page)


def wait_for_region_pickers(page) -> None:
    """Until every region picker on the page is set up (its script has run) and none is loading a level:
    a picker not yet set up has no data-busy either, so "none busy" alone passes on a half-loaded page."""
    page.wait_for_function(
        "() => Array.prototype.every.call(document.querySelectorAll('.region-picker'),"
        " p => !p.querySelector('input.region-code')"
        " || (p.hasAttribute('data-picker-ready') && !p.hasAttribute('data-busy')))"
    )


def open_action(page, action: str):
    """Open an action's panel on the case page (if closed) and return it."""
    panel = page.locator(f"details#action-{action}")
    if panel.get_attribute("open") is None:
        panel.locator("summary").click()
    return panel


ASKING_ACTIONS = ("conclude", "decline")  # the case page's steps that cannot be undone: they ask first


def confirm_step(page) -> None:
    """Answer yes in the confirmation an irreversible step (办结, 不予受理, 退回) opens."""
    page.locator("dialog.confirm-dialog[open] button.confirm-yes").click()


def screenshot(page, name: str) -> Path:
    """A full-page screenshot under test-artifacts/ (for a person to look at; never compared)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
