"""The English UI of the legal-aid, import, reporting, agreements, registry, notification and account pages
(issue 13 point 3, second pass).

With ``?lang=en`` these pages show no CJK character, once the data strings of the world are taken out of their
text: the names of organisations, people, regions, agreements, case categories and sources and an application's
summary (rows of the database, not texts of the hub), the import file's Chinese column headers (the words a file
must carry), and the language switch's 中文. The world is tests/test_i18n_chinese_only.py's, with its failed
report delivery.
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from mediation_hub.agreements.models import Agreement
from mediation_hub.cases.reference import CATEGORIES, SOURCES
from mediation_hub.core.actor import Role
from mediation_hub.extensions import db
from mediation_hub.imports.layout import COLUMNS
from mediation_hub.legal_aid.models import LegalAidApplication
from mediation_hub.regions.models import Region
from mediation_hub.registry.models import Mediator, Organization, Studio

from .conftest import sign_in_client
from .test_i18n_chinese_only import visible_text, world  # noqa: F401 - the shared world fixture

# Slow (every page for every role, in English): `make test` runs it, `make test-fast` does not.
pytestmark = pytest.mark.slow

CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")

# each page, who looks at it (a role allowed to see it with content)
PAGES = [
    (Role.legal_aid_officer, "/legal-aid/applications"),
    (Role.legal_aid_officer, "/legal-aid/applications/{application_id}"),
    (Role.mediator, "/imports/cases"),
    (Role.coordinator, "/reporting"),
    (Role.coordinator, "/reporting/subscriptions"),
    (Role.coordinator, "/agreements/"),
    (Role.registry_admin, "/registry/organizations"),
    (Role.registry_admin, "/registry/mediators"),
    (Role.registry_admin, "/registry/studios"),
    (Role.mediator, "/notifications/"),
    (Role.admin, "/accounts"),
    (Role.mediator, "/account/password"),
]


def data_strings(world) -> list[str]:  # noqa: F811 - the fixture's value
    """The world's names (and the import file's Chinese headers), longest first so a name inside a longer one
    is not cut out of it."""
    names = set()
    names.update(db.session.scalars(sa.select(Organization.name)))
    names.update(db.session.scalars(sa.select(Mediator.name)))
    names.update(db.session.scalars(sa.select(Studio.name)))
    names.update(db.session.scalars(sa.select(LegalAidApplication.applicant_name)))
    names.update(db.session.scalars(sa.select(LegalAidApplication.summary)))
    names.update(db.session.scalars(sa.select(Agreement.name)))
    names.update(user.display_name for user in world["users"].values())
    names.update(db.session.scalars(sa.select(Region.name)))  # a full name is its levels' names
    names.update(name for _code, name in CATEGORIES + SOURCES)
    for column in COLUMNS:
        names.update((column.header, *column.aliases))
    names.add("中文")  # the language switch names each language in itself
    return sorted((n for n in names if n and CJK.search(n)), key=len, reverse=True)


def without_data(texts: list[str], names: list[str]) -> list[str]:
    left = []
    for text in texts:
        for name in names:
            if name in text:
                text = text.replace(name, " ")
        left.append(text)
    return left


@pytest.mark.parametrize(("role", "url"), PAGES, ids=[f"{role.value}:{url}" for role, url in PAGES])
def test_english_pages_show_no_chinese_but_data(client, world, role, url):  # noqa: F811 - the fixture
    sign_in_client(client, world["users"][role])
    response = client.get(url.format(application_id=world["application"].id) + ("&" if "?" in url else "?") + "lang=en")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["Content-Language"] == "en", url
    texts = visible_text(html)
    assert texts
    chinese = [text for text in without_data(texts, data_strings(world)) if CJK.search(text)]
    assert chinese == [], f"Chinese on the English {url}: {chinese[:12]}"


def test_the_failed_delivery_is_shown_in_english_and_in_chinese(client, world):  # noqa: F811 - the fixture
    sign_in_client(client, world["users"][Role.coordinator])
    chinese = visible_text(client.get("/reporting/subscriptions").get_data(as_text=True))
    assert "HTTP 500：接收方未接受" in chinese and "投递失败" in chinese
    assert any(re.search(r"\d+ 毫秒", text) for text in chinese)
    english = visible_text(client.get("/reporting/subscriptions?lang=en").get_data(as_text=True))
    assert "HTTP 500: the endpoint did not accept the report" in english
    assert any(re.search(r"\d+ ms", text) for text in english)
    client.get("/reporting/subscriptions?lang=zh_Hans_CN")
