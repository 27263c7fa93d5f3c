"""Places down to the village in the browser (issue 17): an administrator uploads a csv of a town and a village
on 乡镇和村 and reads the counts; a mediator then chooses that village in the registration form's region picker
(province → city → county → town → village) and the case registers with it.

Browser tests commit for real, and regions are reference data nobody wipes: the fixture takes the places out
again afterwards (after the cases that name them) and puts back the record of the last load."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from mediation_hub.auth.service import create_user
from mediation_hub.cases.models import Case
from mediation_hub.core.actor import SYSTEM, Role
from mediation_hub.extensions import db
from mediation_hub.regions.models import ReferenceSource, Region
from mediation_hub.regions.service import PLACES_DATASET
from tests.browser_steps import PASSWORD, committed_mediator, pick_region, screenshot
from tests.conftest import wipe_non_reference_tables
from tests.factories import valid_id_number

pytestmark = pytest.mark.browser

TOWN, VILLAGE = "110105990000", "110105990001"  # under 朝阳区 110105; codes no real place uses
PLACES = f"代码,名称,上级代码\n{VILLAGE},望京测试社区,{TOWN}\n{TOWN},望京测试街道,110105\n"  # the village first


@pytest.fixture
def places_taken_out_afterwards(app):
    record = db.session.get(ReferenceSource, PLACES_DATASET)
    saved = {c.key: getattr(record, c.key) for c in ReferenceSource.__table__.columns} if record else None
    db.session.commit()
    yield
    wipe_non_reference_tables(app)  # the cases and organisations first: they name the places
    db.session.execute(sa.delete(Region).where(Region.code == VILLAGE))
    db.session.execute(sa.delete(Region).where(Region.code == TOWN))
    db.session.execute(sa.delete(ReferenceSource).where(ReferenceSource.dataset == PLACES_DATASET))
    if saved:
        db.session.execute(sa.insert(ReferenceSource).values(**saved))
    db.session.commit()


def test_administrator_uploads_places_and_a_case_registers_at_the_new_village(
    places_taken_out_afterwards, page, sign_in, tmp_path
):
    tag = uuid.uuid4().hex[:6]
    admin = f"places-{tag}"
    create_user(SYSTEM, username=admin, password=PASSWORD, role=Role.admin)
    org_id, mediator, _ = committed_mediator(tag)  # commits: read nothing afterwards (SQLite's lock)
    upload = tmp_path / "朝阳区乡镇村.csv"
    upload.write_text(PLACES, encoding="utf-8-sig")

    sign_in(admin, PASSWORD)
    page.click("nav.mainnav >> text=乡镇和村")
    expect(page.locator("h1")).to_have_text("乡镇和村")
    page.set_input_files("#file", str(upload))
    page.click("form.places-form button[type=submit]")
    expect(page.locator("p.flash.success")).to_have_text("乡镇和村已导入：新增 2 个，更名 0 个。")
    expect(page.locator("dd.last-load")).to_contain_text("朝阳区乡镇村.csv")
    screenshot(page, "places-loaded")
    page.locator(".user").get_by_role("button", name="退出").click()
    page.wait_for_load_state("networkidle")

    sign_in(mediator, PASSWORD)
    page.goto("/cases/new")
    page.select_option("#category", "neighbour")
    page.select_option("#source", "party_application")
    page.fill("#summary", f"社区内邻里噪音纠纷 {tag}")
    place = "[data-field='occurred_region_code']"
    pick_region(page, place, ["110000", "110100", "110105", TOWN, VILLAGE])
    expect(page.locator(f"{place} select[data-level='3']")).to_have_attribute("aria-label", "乡镇")
    expect(page.locator(f"{place} select[data-level='4']")).to_have_attribute("aria-label", "村（社区）")
    page.locator("input[name='parties-0-name']").fill(f"张申请{tag}")
    page.locator("input[name='parties-0-number']").fill(valid_id_number())
    page.locator("input[name='parties-1-name']").fill(f"李被申{tag}")
    page.click("button[type=submit].primary:has-text('登记')")
    expect(page.locator("h1 .case-number")).to_be_visible()
    expect(page.locator("main")).to_contain_text("北京市 朝阳区 望京测试街道 望京测试社区")
    screenshot(page, "places-case-at-village")

    occurred = db.session.scalars(sa.select(Case.occurred_region_code).where(Case.organization_id == org_id)).all()
    db.session.commit()  # end the read
    assert occurred == [VILLAGE]
