"""Chinese by default, English with ?lang=en (remembered for the session); the catalogue is complete and
its compiled .mo matches the .po."""

from __future__ import annotations

from pathlib import Path

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from mediation_hub.core.actor import Role
from mediation_hub.extensions import db
from mediation_hub.registry.models import OrgKind

CATALOGUE = Path(__file__).resolve().parent.parent / "mediation_hub/translations/en/LC_MESSAGES"


def test_login_page_in_both_languages(client):
    chinese = client.get("/login").get_data(as_text=True)
    assert "登录 调解协同中枢" in chinese and 'lang="zh-CN"' in chinese
    english = client.get("/login?lang=en").get_data(as_text=True)
    assert "Sign in to Mediation Hub" in english and "Username" in english and "Password" in english
    assert 'lang="en"' in english and "登录 调解协同中枢" not in english
    failed = client.post("/login", data={"username": "nobody", "password": "wrong-password"})
    assert "Wrong username or password" in failed.get_data(as_text=True)  # the choice is remembered


def test_registry_pages_and_layout_in_english(signed_in, make_user, make_org):
    make_org(name="英文界面测试司法局", kind=OrgKind.justice_bureau, region_code="110105")
    client = signed_in(make_user(role=Role.registry_admin))
    html = client.get("/registry/organizations?lang=en&q=英文界面").get_data(as_text=True)
    for text in (
        "Organisations",
        "Register an organisation",
        "Justice bureau",
        "Mediator studios",
        "Registry administrator",
        "Sign out",
        "Menu",
        "1 in all, page 1 of 1",
        "Filter",
    ):
        assert text in html, text
    assert "登记组织" not in html and "组织机构" not in html
    html = client.get("/registry/mediators/new").get_data(as_text=True)
    assert "Register a mediator" in html and "ID number" in html
    assert "Mediator studio not found" in client.get("/registry/studios/999999").get_data(as_text=True)
    back = client.get("/registry/organizations?lang=zh_Hans_CN").get_data(as_text=True)
    assert "登记组织" in back and "Register an organisation" not in back


def test_english_catalogue_is_complete_and_compiled():
    with open(CATALOGUE / "messages.po", "rb") as f:
        po = read_po(f, locale="en")
    with open(CATALOGUE / "messages.mo", "rb") as f:
        mo = read_mo(f)
    untranslated = [m.id for m in po if m.id and not m.string]
    assert not untranslated, f"untranslated: {untranslated} (run make translations and fill them in)"
    fuzzy = [m.id for m in po if m.id and m.fuzzy]
    assert not fuzzy, f"fuzzy translations to review: {fuzzy}"
    assert {m.id: m.string for m in po if m.id} == {m.id: m.string for m in mo if m.id}, "run make translations"


def test_default_is_chinese(signed_in, make_user):
    db.session.commit()
    client = signed_in(make_user(role=Role.admin))
    html = client.get("/registry/studios").get_data(as_text=True)
    assert "调解工作室" in html and "系统管理员" in html and "Mediator studios" not in html


def test_language_switch_keeps_the_filters(signed_in, make_user):
    client = signed_in(make_user(role=Role.admin))
    html = client.get("/registry/organizations?region_code=130600&kind=justice_bureau").get_data(as_text=True)
    assert 'href="/registry/organizations?region_code=130600&amp;kind=justice_bureau&amp;lang=en"' in html
