"""Places down to the village (issue 17): towns and villages loaded from a csv of 统计用区划代码 (the service, the
API, the command line and the administrators' page), then used where a dispute happened (registration and the
bulk import) and as the region of a village governance centre, whose coordinator sees its territory's rates.

The places hang under 容城县 130629 (保定市 130600, 河北省 130000) unless a test says otherwise."""

from __future__ import annotations

import io
from datetime import date, datetime

import pytest
import sqlalchemy as sa
import time_machine

from mediation_hub.auth.service import create_user
from mediation_hub.cases import service as cases
from mediation_hub.cases.models import Case
from mediation_hub.core.actor import SYSTEM, Role
from mediation_hub.core.shanghai import SHANGHAI
from mediation_hub.errors import PermissionDenied, ValidationFailed
from mediation_hub.extensions import db
from mediation_hub.imports import service as imports
from mediation_hub.imports.layout import cell_text
from mediation_hub.regions.models import ReferenceSource, Region, RegionLevel
from mediation_hub.regions.service import (
    PLACES_DATASET,
    add_local_region,
    children_of,
    import_places,
    import_places_file,
    read_places,
)
from mediation_hub.registry.models import Organization
from mediation_hub.reporting.service import region_choices
from tests.factories_cases import case_data, person
from tests.import_samples import row, write_csv, write_xlsx

ADMIN = SYSTEM
# Mixed on purpose: the Chinese header with a BOM, a village before its town, a county written in 12 digits, a town
# in 9 digits and its village pointing at it in 12.
PLACES_CSV = (
    "\ufeff代码,名称,上级代码\n"
    "130629100001,城关社区,130629100000\n"  # line 2: a village before its town
    "130629100000,容城镇,130629000000\n"  # line 3: the county in its 12-digit form
    "130629101,小里镇,130629\n"  # line 4: a town in 9 digits
    "130629101201,小里村,130629101000\n"  # line 5: its village names it in 12 digits
    "\n"
    "130629100202,东关村,130629100\n"  # line 7 (line 6 is blank): the town in 9 digits
)
NEW_CODES = ("130629100000", "130629100001", "130629100202", "130629101", "130629101201")


def places_of(parent: str) -> list[tuple[str, str, str]]:
    return [(r.code, r.name, r.level.value) for r in db.session.scalars(children_of(parent))]


def held_places() -> int:
    levels = (RegionLevel.town, RegionLevel.village)
    return db.session.scalar(sa.select(sa.func.count()).select_from(Region).where(Region.level.in_(levels)))


def load(text: str, filename: str = "容城县.csv"):
    return import_places_file(ADMIN, filename, text.encode("utf-8"))


def csv_of(*rows: str) -> str:
    return "code,name,parent\n" + "".join(f"{r}\n" for r in rows)


def errors_of(text: str) -> dict[str, list[str]]:
    before = held_places()
    with pytest.raises(ValidationFailed) as caught:
        load(text)
    assert held_places() == before  # all or nothing
    assert db.session.get(ReferenceSource, PLACES_DATASET) is None
    return caught.value.errors


@pytest.fixture
def rongcheng():
    """The places of PLACES_CSV, loaded."""
    load(PLACES_CSV)


# --- loading a csv ------------------------------------------------------------------------------------------


def test_towns_and_villages_load_in_any_order_and_hang_where_their_codes_say():
    with time_machine.travel(datetime(2026, 12, 8, 9, tzinfo=SHANGHAI), tick=False):
        result = load(PLACES_CSV)
    assert (result.added, result.updated) == (5, 0)
    assert places_of("130629") == [("130629100000", "容城镇", "town"), ("130629101", "小里镇", "town")]
    assert places_of("130629100000") == [
        ("130629100001", "城关社区", "village"),
        ("130629100202", "东关村", "village"),
    ]
    assert places_of("130629101") == [("130629101201", "小里村", "village")]  # hung from the town as it is held
    village = db.session.get(Region, "130629101201")
    assert village.path == "130000/130600/130629/130629101/130629101201/"
    assert (village.province_code, village.prefecture_code) == ("130000", "130600")
    assert village.full_name == "河北省 保定市 容城县 小里镇 小里村"
    source = db.session.get(ReferenceSource, PLACES_DATASET)
    assert (source.source, source.version) == ("容城县.csv", "2026-12-08")


def test_loading_the_same_file_again_changes_nothing_and_a_new_name_renames(rongcheng):
    again = load(PLACES_CSV)
    assert (again.added, again.updated) == (0, 0)
    # the same places in the other form of their codes are the same places: one renamed, none added
    renamed = load(csv_of("130629100,容城镇（街道）,130629", "130629101000,小里镇,130629000000"))
    assert (renamed.added, renamed.updated) == (0, 1)
    assert places_of("130629") == [("130629100000", "容城镇（街道）", "town"), ("130629101", "小里镇", "town")]
    assert held_places() == 5


def test_new_villages_join_held_towns_and_the_api_lists_them(rongcheng, api_as):
    result = load(csv_of("130629100203,西关村,130629100000"))
    assert (result.added, result.updated) == (1, 0)
    body = api_as(role=Role.mediator).get("/api/v1/regions?parent=130629100000").get_json()
    assert [(r["code"], r["level"]) for r in body["items"]] == [
        ("130629100001", "village"),
        ("130629100202", "village"),
        ("130629100203", "village"),
    ]


def test_a_prefecture_level_city_without_counties_takes_towns_directly():
    # 东莞 441900 has no counties: its towns hang from the city (统计用区划代码 441900003000 东城街道)
    result = load(csv_of("441900003000,东城街道,441900000000", "441900003001,东城社区,441900003000"))
    assert (result.added, result.updated) == (2, 0)
    assert db.session.get(Region, "441900003001").full_name == "广东省 东莞市 东城街道 东城社区"


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        # a code of neither shape (8 digits), and a county's 12-digit code: no place
        (["13062910,某镇,130629"], {"lines.2.code": "place_code_invalid"}),
        (["130629000000,容城县,130600"], {"lines.2.code": "place_code_invalid"}),
        # a town of another county
        (["130632100000,安新镇,130629"], {"lines.2.code": "place_code_outside_parent"}),
        # under a county the code must be a town's; under a town a village's
        (["130629100001,城关社区,130629"], {"lines.2.code": "town_code_invalid"}),
        (["130629100000,容城镇,130629", "130629102,某镇,130629100000"], {"lines.3.code": "village_code_invalid"}),
        # a village of another town
        (
            ["130629100000,容城镇,130629", "130629101001,某村,130629100000"],
            {"lines.3.code": "place_code_outside_parent"},
        ),
        # a parent nowhere, a parent that takes no places (a province, a custom region), a village as parent
        (["130629100000,容城镇,139999"], {"lines.2.parent": "unknown_parent_region"}),
        (["130629100000,容城镇,130000"], {"lines.2.parent": "wrong_parent_level"}),
        (["130629100000,容城镇,XIONGAN"], {"lines.2.parent": "wrong_parent_level"}),
        (
            ["130629100001,城关社区,130629100000", "130629100000,容城镇,130629", "130629100002,某村,130629100001"],
            {"lines.4.parent": "wrong_parent_level"},
        ),
        # a name missing, too long, a parent missing, and one place twice (its two forms)
        (["130629100000,,130629"], {"lines.2.name": "place_name_required"}),
        ([f"130629100000,{'镇' * 81},130629"], {"lines.2.name": "place_name_too_long"}),
        (["130629100000,容城镇,"], {"lines.2.parent": "parent_code_required"}),
        (["130629100000,容城镇,130629", "130629100,容城镇,130629"], {"lines.3.code": "place_code_repeated"}),
    ],
)
def test_each_bad_row_is_refused_with_its_line_and_field_and_nothing_is_written(rows, expected):
    errors = errors_of(csv_of(*rows))
    assert {key: [m.code for m in messages] for key, messages in errors.items()} == {
        key: [code] for key, code in expected.items()
    }
    line = next(iter(expected)).split(".")[1]
    assert all(m.startswith(f"第 {line} 行：") for messages in errors.values() for m in messages)


def test_every_bad_row_of_a_file_is_listed_in_line_order_and_the_good_ones_are_not_written():
    errors = errors_of(
        csv_of(
            "130629100000,容城镇,130629",  # line 2: good
            "130629100001,城关社区,130629100000",  # line 3: good
            "1306291000X1,某村,130629100000",  # line 4
            "130629100002,,130629100009",  # line 5: no name and an unknown parent
            "130629100003,东门村,130629100001",  # line 6: under a village
        )
    )
    assert list(errors) == ["lines.4.code", "lines.5.name", "lines.5.parent", "lines.6.parent"]
    assert errors["lines.5.parent"] == ["第 5 行：上级代码 130629100009 不在文件中，也不是已有的区划"]
    assert errors["lines.6.parent"] == ["第 6 行：镇（街道）须在县级区划之下，村（社区）须在镇之下"]


def test_a_place_held_under_another_parent_is_refused():
    # held the way an earlier, looser loader could have put it: 容城 town code under 安新县
    anxin = db.session.get(Region, "130632")
    db.session.add(
        Region(
            code="130629100000",
            name="容城镇",
            level=RegionLevel.town,
            parent_code="130632",
            path=f"{anxin.path}130629100000/",
            province_code="130000",
            prefecture_code="130600",
        )
    )
    db.session.flush()
    with pytest.raises(ValidationFailed) as caught:
        load(csv_of("130629100000,容城镇,130629"))
    assert caught.value.errors == {
        "lines.2.parent": ["第 2 行：代码 130629100000 已登记在 河北省 保定市 安新县（130632）之下"]
    }


@pytest.mark.parametrize(
    ("content", "code"),
    [
        ("代码,名称\n130629100000,容城镇\n".encode(), "places_header"),
        (b"region,name,parent\n", "places_header"),
        (b"", "places_header"),
        ("代码,名称,上级代码\n130629100000,容城镇,130629\n".encode("gb18030"), "places_not_utf8"),
        ("代码,名称,上级代码\n\n".encode(), "places_empty"),
    ],
)
def test_a_file_that_is_no_places_csv_is_refused_on_file(content, code):
    with pytest.raises(ValidationFailed) as caught:
        import_places_file(ADMIN, "x.csv", content)
    assert [m.code for m in caught.value.errors["file"]] == [code]


def test_the_header_may_be_english_or_chinese_in_any_order_and_other_columns_are_ignored():
    rows = read_places("名称,城乡分类代码,上级代码,代码\r\n容城镇,111,130629,130629100000\r\n".encode())
    assert rows == [{"line": 2, "name": "容城镇", "parent": "130629", "code": "130629100000"}]
    result = import_places(ADMIN, [{"code": "130629100000", "name": " 容城镇 ", "parent": "130629"}], source="手工")
    assert (result.added, db.session.get(Region, "130629100000").name) == (1, "容城镇")


def test_only_an_administrator_loads_places(make_user):
    coordinator = make_user(role=Role.coordinator, region_code="130000").to_actor()
    with pytest.raises(PermissionDenied):
        import_places_file(coordinator, "x.csv", csv_of("130629100000,容城镇,130629").encode())
    with pytest.raises(PermissionDenied):
        import_places(coordinator, [{"code": "130629100000", "name": "容城镇", "parent": "130629"}])
    assert held_places() == 0


def test_add_local_region_makes_the_same_checks_for_one_place():
    town = add_local_region("130629100000", "容城镇", "130629", RegionLevel.town)
    village = add_local_region("130629100001", "城关社区", town.code)
    assert (village.level, village.path) == (RegionLevel.village, "130000/130600/130629/130629100000/130629100001/")
    with pytest.raises(ValidationFailed) as caught:
        add_local_region("130629100", "容城镇", "130629")  # the same town in 9 digits
    assert [m.code for m in caught.value.errors["code"]] == ["region_code_taken"]
    with pytest.raises(ValidationFailed) as caught:
        add_local_region("130629101000", "小里镇", "130629", RegionLevel.village)
    assert [m.code for m in caught.value.errors["parent_code"]] == ["wrong_parent_level"]


# --- the API, the command line, the page -------------------------------------------------------------------


def test_an_administrator_posts_the_csv_as_a_file_or_as_the_body(api_as):
    client = api_as(role=Role.admin)
    answer = client.post("/api/v1/regions/places", data={"file": (io.BytesIO(PLACES_CSV.encode()), "容城县.csv")})
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json() == {"added": 5, "updated": 0}
    answer = client.post(
        "/api/v1/regions/places", data=csv_of("130629100,容城街道,130629"), content_type="text/csv; charset=utf-8"
    )
    assert answer.get_json() == {"added": 0, "updated": 1}
    assert db.session.get(ReferenceSource, PLACES_DATASET).source == "未命名文件"


def test_a_bad_row_is_a_422_naming_its_line_and_field(api_as):
    answer = api_as(role=Role.admin).post(
        "/api/v1/regions/places", data=csv_of("130629100000,容城镇,130629", "130629100001,城关社区,139999100000")
    )
    # a body that says neither text/csv nor multipart carries no file
    assert answer.status_code == 422
    assert answer.get_json()["error_codes"]["json"] == {"file": ["places_file_required"]}
    answer = api_as(role=Role.admin).post(
        "/api/v1/regions/places",
        data=csv_of("130629100000,容城镇,130629", "130629100001,城关社区,139999100000"),
        content_type="text/csv",
    )
    body = answer.get_json()
    assert answer.status_code == 422 and body["error"] == "validation_failed"
    assert body["errors"]["json"] == {"lines.3.parent": ["第 3 行：上级代码 139999100000 不在文件中，也不是已有的区划"]}
    assert body["error_codes"]["json"] == {"lines.3.parent": ["unknown_parent_region"]}
    assert held_places() == 0


@pytest.mark.parametrize("role", [Role.registry_admin, Role.coordinator, Role.mediator, Role.legal_aid_officer])
def test_nobody_else_may_post_places(api_as, role):
    answer = api_as(role=role, region_code="130000" if role in (Role.registry_admin, Role.coordinator) else None).post(
        "/api/v1/regions/places", data=csv_of("130629100000,容城镇,130629"), content_type="text/csv"
    )
    assert (answer.status_code, answer.get_json()["error"]) == (403, "admins_only")
    assert held_places() == 0


def test_the_command_loads_a_file_and_refuses_a_bad_one_with_exit_2(app, tmp_path):
    good = tmp_path / "rongcheng.csv"
    good.write_text(PLACES_CSV, encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["regions", "import-places", str(good)])
    assert result.exit_code == 0, result.output
    assert result.stdout == "places loaded from rongcheng.csv: 5 added, 0 renamed\n"
    assert db.session.get(ReferenceSource, PLACES_DATASET).source == "rongcheng.csv"

    bad = tmp_path / "bad.csv"
    bad.write_text(csv_of("130629100003,东门村,130629100001", "130629102000,,130629"), encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["regions", "import-places", str(bad)])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "lines.2.parent: 第 2 行：镇（街道）须在县级区划之下，村（社区）须在镇之下",
        "lines.3.name: 第 3 行：请填写名称",
    ]
    assert held_places() == 5


def test_the_page_loads_a_csv_and_shows_the_counts(signed_in, make_user):
    client = signed_in(make_user(role=Role.admin))
    page = client.get("/regions/places").get_data(as_text=True)
    assert "乡镇和村" in page and "尚未导入" in page
    answer = client.post(
        "/regions/places",
        data={"file": (io.BytesIO(PLACES_CSV.encode()), "容城县.csv")},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 302
    page = client.get("/regions/places").get_data(as_text=True)
    assert "乡镇和村已导入：新增 5 个，更名 0 个。" in page
    assert '<dd class="towns-count">2 个</dd>' in page and '<dd class="villages-count">3 个</dd>' in page
    assert "容城县.csv" in page


def test_the_page_lists_the_bad_rows_and_saves_nothing(signed_in, make_user):
    client = signed_in(make_user(role=Role.admin))
    answer = client.post(
        "/regions/places",
        data={"file": (io.BytesIO(csv_of("130629100000,容城镇,130629", "13062910,某村,130629").encode()), "x.csv")},
        content_type="multipart/form-data",
    )
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert "文件未导入" in page and "第 3 行：代码应为乡镇" in page
    assert held_places() == 0
    refused = client.post("/regions/places", data={}, content_type="multipart/form-data")
    assert refused.status_code == 422 and "请选择要导入的文件" in refused.get_data(as_text=True)


def test_the_page_and_its_menu_entry_are_for_administrators_only(signed_in, make_user):
    admin = signed_in(make_user(role=Role.admin))
    assert 'href="/regions/places"' in admin.get("/calendar").get_data(as_text=True)
    coordinator = signed_in(make_user(role=Role.coordinator, region_code="130000"))
    assert coordinator.get("/regions/places").status_code == 403
    assert 'href="/regions/places"' not in coordinator.get("/").get_data(as_text=True)


# --- the places in use -------------------------------------------------------------------------------------


def test_a_case_registers_with_a_village_as_where_it_happened_and_a_party_living_there(rongcheng, make_org):
    org = make_org(region_code="130629")
    case, _duplicates = cases.register_case(
        SYSTEM,
        case_data(
            org.id,
            occurred_region_code="130629100001",
            parties=[person("applicant", region_code="130629100202"), person("respondent", region_code="130629")],
        ),
    )
    assert (case.occurred_region_code, case.cross_region) == ("130629100001", False)
    assert case.parties[0].region_code == "130629100202"


def test_the_api_registers_a_case_at_a_village_and_refuses_an_unknown_one(rongcheng, make_org, api_as):
    org = make_org(region_code="130629")
    client = api_as(role=Role.admin)
    body = {**case_data(org.id, occurred_region_code="130629101201"), "received_on": date.today().isoformat()}
    answer = client.post("/api/v1/cases", json=body)
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["occurred_region_code"] == "130629101201"
    refused = client.post("/api/v1/cases", json={**body, "occurred_region_code": "130629101299"})
    assert refused.status_code == 422
    assert refused.get_json()["error_codes"]["json"]["occurred_region_code"] == ["unknown_region"]


@pytest.mark.parametrize(("writer", "suffix"), [(write_csv, "csv"), (write_xlsx, "xlsx")], ids=["csv", "xlsx"])
def test_an_imported_row_takes_a_village_code(rongcheng, make_org, tmp_path, writer, suffix):
    org = make_org(region_code="130629")
    rows = [
        row("V1", 发生地行政区划代码="130629100001", 申请人地区代码="130629100202"),
        row("V2", 发生地行政区划代码="130629100299"),  # no such village
    ]
    path = writer(tmp_path / f"cases.{suffix}", rows)
    summary = imports.import_file(path, org.id, SYSTEM, source_system="old")
    assert (summary.imported, summary.failed) == (1, 1)
    assert [(f.column, f.reason) for f in summary.failures] == [
        ("发生地行政区划代码", "未知的行政区划代码 130629100299")
    ]
    case = db.session.scalar(sa.select(Case).where(Case.organization_id == org.id))
    assert case.occurred_region_code == "130629100001"
    # a 12-digit code typed as a number comes out of the spreadsheet whole
    assert cell_text(130629100001.0) == cell_text(130629100001) == "130629100001"


def test_a_governance_centre_registers_at_a_village_and_its_coordinator_sees_the_villages_rates(
    rongcheng, api_as, make_case_history
):
    registry = api_as(role=Role.registry_admin, region_code="130000")
    answer = registry.post(
        "/api/v1/organizations",
        json={"name": "城关社区综治中心", "kind": "governance_centre", "region_code": "130629100001"},
    )
    assert answer.status_code == 201, answer.get_json()
    centre_id = answer.get_json()["id"]
    committee = registry.post(
        "/api/v1/organizations",
        json={"name": "城关社区人民调解委员会", "kind": "people_mediation_committee", "region_code": "130629100001"},
    ).get_json()
    neighbour = registry.post(
        "/api/v1/organizations",
        json={"name": "东关村人民调解委员会", "kind": "people_mediation_committee", "region_code": "130629100202"},
    ).get_json()
    village_committee, other_committee = (db.session.get(Organization, o["id"]) for o in (committee, neighbour))
    march = {"registered": date(2026, 3, 2), "accepted": date(2026, 3, 3)}
    # the village's committee: 2 received, 1 concluded with an agreement; the neighbouring village's: 1 received
    make_case_history(village_committee, **march, concluded=date(2026, 3, 20), outcome="agreement")
    make_case_history(village_committee, **march)
    make_case_history(other_committee, **march, concluded=date(2026, 3, 9), outcome="no_agreement")
    user = create_user(
        SYSTEM,
        username="village-coordinator",
        password="correct-horse-battery",
        role=Role.coordinator,
        organization_id=centre_id,
        region_code="130629100001",
    )
    db.session.commit()

    coordinator = api_as(user)
    rates = coordinator.get("/api/v1/reports/rates?from=2026-03-01&to=2026-03-31&as_of=2026-03-31").get_json()
    assert rates["scope"]["region_code"] == "130629100001"
    totals = rates["totals"]
    # 2 received, 1 concluded (agreement): success 1 / 1; completion 1 / 2
    assert (totals["received"], totals["concluded"], totals["agreement"]) == (2, 1, 1)
    assert (totals["success_rate"], totals["completion_rate"]) == (1.0, 0.5)
    outside = coordinator.get("/api/v1/reports/rates?region_code=130629100000&from=2026-03-01&to=2026-03-31")
    assert outside.status_code == 404  # the town above the village is outside its scope
    assert [r.code for r in region_choices(user.to_actor())] == ["130629100001"]
