"""Size limits on every request and upload (issue 12, item 4).

No body limit and no limit on what an upload unpacks to: a 0.13 MB xlsx of 3 million shared strings killed a
worker (and left its file behind), a 70 KB xlsx of 8 million blank rows took 46 s and 875 MB, a 35 MB JSON body
to ``POST /cases`` took 16 s and 633 MB, the anonymous token call parsed 20 MB. Each hostile request or file
below is built here, small on disk like the issue's, and refused with the right status, nothing written, no
file left in the upload folder."""

from __future__ import annotations

import io
import os
import re
import zipfile

import pytest
import sqlalchemy as sa
from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from mediation_hub.cases.models import Case
from mediation_hub.config import Config, ConfigError
from mediation_hub.core import limits as body_limits
from mediation_hub.core.actor import SYSTEM, Role
from mediation_hub.extensions import db
from mediation_hub.imports import jobs
from mediation_hub.imports import limits as file_limits
from mediation_hub.imports.layout import COLUMNS
from mediation_hub.imports.models import ImportJob
from mediation_hub.imports.readers import FileLimits, UnusableFile, open_sheet
from mediation_hub.imports.service import check_header, import_file
from tests.factories import PASSWORD
from tests.import_samples import HEADER, excel_value, sample_rows, write_csv

MB = 1024 * 1024
TOO_LARGE_JSON = "请求内容过大（上限 1 MB）"
TOO_LARGE_TOKEN = "请求内容过大（上限 8 KB）"
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
STRINGS_3M = "工作簿中不同的文字超过 1,000,000 个（共享字符串），请拆分文件或另存为 csv"
RATIO = "xlsx 文件中有部件的压缩比超过 100:1（大量重复的内容，如成片的空行），请删除多余的行后重新保存"
ROWS = "工作表超过 1,048,576 行，请拆分文件"
COLUMNS_256 = "工作表超过 256 列"


@pytest.fixture(autouse=True)
def _imports_inline(app, monkeypatch, tmp_path):
    monkeypatch.setitem(app.config, "IMPORT_RUN_INLINE", True)
    monkeypatch.setitem(app.config, "IMPORT_DIR", str(tmp_path / "imports"))


def upload_folder(tmp_path) -> list[str]:
    folder = tmp_path / "imports"
    return sorted(os.listdir(folder)) if folder.exists() else []


def counts() -> tuple[int, int]:
    return (
        db.session.scalar(sa.select(sa.func.count()).select_from(Case)),
        db.session.scalar(sa.select(sa.func.count()).select_from(ImportJob)),
    )


def assert_json_error(response, status: int, message: str) -> None:
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body == {"code": status, "status": body["status"], "error": body["error"], "message": message}
    assert body["error"] == {413: "payload_too_large"}.get(status, body["error"])


# --- building hostile workbooks -------------------------------------------------------------------------------


def header_row() -> str:
    cells = "".join(
        f'<c r="{get_column_letter(i)}1" t="inlineStr"><is><t>{name}</t></is></c>' for i, name in enumerate(HEADER, 1)
    )
    return f'<row r="1">{cells}</row>'


def sheet_xml(rows: str = "", *, before: str = "", dimension: str | None = None) -> bytes:
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN_NS}">{dim}{before}'
        f"<sheetData>{header_row()}{rows}</sheetData></worksheet>"
    ).encode()


def workbook(tmp_path, replace: dict[str, bytes], *, stored: dict[str, int] | None = None) -> bytes:
    """A real workbook (openpyxl, with a shared-strings table) with some parts replaced or added; ``stored`` adds
    parts of that many zero bytes, written as a stream (never held in memory)."""
    book = Workbook()
    book.active.append(["x"])
    base = tmp_path / "base.xlsx"
    book.save(base)
    out = io.BytesIO()
    with zipfile.ZipFile(base) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for name in source.namelist():
            target.writestr(name, replace.pop(name, None) or source.read(name))
        for name, data in replace.items():
            target.writestr(name, data)
        for name, size in (stored or {}).items():
            with target.open(name, "w", force_zip64=True) as part:
                for _ in range(size // MB):
                    part.write(bytes(MB))
    return out.getvalue()


def shared_strings(count: int, *, stated: bool, text=lambda i: "") -> bytes:
    unique = f' count="{count}" uniqueCount="{count}"' if stated else ""
    body = "".join(f"<si><t>{text(i)}</t></si>" for i in range(count)) if text(1) else "<si><t/></si>" * count
    return f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN_NS}"{unique}>{body}</sst>'.encode()


def columns_before(count: int) -> str:
    widths = "".join(f'<col min="{i}" max="{i}" width="9.140625" style="3" customWidth="1"/>' for i in range(1, count))
    return f"<cols>{widths}</cols>"


def text_rows(size: int) -> str:
    """Rows of different texts, compressed about as a real sheet is."""
    rows, total, number = [], 0, 2
    while total < size:
        rows.append(f'<row r="{number}"><c r="A{number}" t="inlineStr"><is><t>张{number * 7919}某</t></is></c></row>')
        total, number = total + len(rows[-1]), number + 1
    return "".join(rows)


SHEET = "xl/worksheets/sheet1.xml"
STRINGS = "xl/sharedStrings.xml"

# name -> (settings changed, module constants changed, the parts, the 422's message)
HOSTILE_WORKBOOKS = {
    # the issue's file: 3 million shared strings in 0.13 MB, the table stating its size
    "3 million shared strings": (
        {},
        {},
        lambda tmp: workbook(tmp, {SHEET: sheet_xml(), STRINGS: shared_strings(3_000_000, stated=True)}),
        STRINGS_3M,
    ),
    # the same without stating it: refused as what it is, a zip bomb
    "3 million shared strings, unstated": (
        {},
        {},
        lambda tmp: workbook(tmp, {SHEET: sheet_xml(), STRINGS: shared_strings(3_000_000, stated=False)}),
        RATIO,
    ),
    # a table that states nothing and compresses like text: the strings are counted
    "shared strings counted": (
        {"XLSX_MAX_SHARED_STRINGS": 3000},
        {},
        lambda tmp: workbook(
            tmp, {SHEET: sheet_xml(), STRINGS: shared_strings(3001, stated=False, text=lambda i: f"张{i}某")}
        ),
        "工作簿中不同的文字超过 3,000 个（共享字符串），请拆分文件或另存为 csv",
    ),
    # the issue's other file: 8 million blank rows in 70 KB
    "8 million blank rows": ({}, {}, lambda tmp: workbook(tmp, {SHEET: sheet_xml("<row/>" * 8_000_000)}), RATIO),
    # a few bytes that state 8 million rows
    "8 million rows stated": ({}, {}, lambda tmp: workbook(tmp, {SHEET: sheet_xml(dimension="A1:Z8000000")}), ROWS),
    "a zip bomb part": (
        {},
        {},
        lambda tmp: workbook(tmp, {SHEET: sheet_xml()}, stored={"xl/media/image1.png": 20 * MB}),
        RATIO,
    ),
    "too large unpacked": (
        {"XLSX_MAX_UNCOMPRESSED_MB": 1},
        {},
        lambda tmp: workbook(tmp, {SHEET: sheet_xml(text_rows(MB + 1))}),
        "xlsx 文件解压后超过 1 MB，请拆分文件或另存为 csv",
    ),
    # 3 MB of column widths before the first row: parsed in the request by the header check
    "the first row far down": (
        {},
        {},
        lambda tmp: workbook(tmp, {SHEET: sheet_xml(before=columns_before(45_000))}),
        "工作表的第一行不在工作表开头 2 MB 之内",
    ),
    "a header cell in column 300": (
        {},
        {},
        lambda tmp: workbook(
            tmp, {SHEET: sheet_xml().replace(b"</row>", b'<c r="KN1" t="inlineStr"><is><t>x</t></is></c></row>', 1)}
        ),
        COLUMNS_256,
    ),
    "a large styles part": (
        {},
        {"MAX_OTHER_PART": 64 * 1024},
        lambda tmp: workbook(
            tmp,
            {
                SHEET: sheet_xml(),
                "xl/styles.xml": b"<styleSheet>" + os.urandom(40_000).hex().encode() + b"</styleSheet>",
            },
        ),
        "xlsx 文件中有部件解压后超过 64 KB",
    ),
    "too many parts": (
        {},
        {"MAX_PARTS": 20},
        lambda tmp: workbook(tmp, {SHEET: sheet_xml(), **{f"xl/media/p{i}.png": b"x" for i in range(20)}}),
        "xlsx 文件包含超过 20 个部件",
    ),
}


def upload(api, org_id, content: bytes, name: str = "历史案件.xlsx"):
    return api.post(
        "/api/v1/imports/cases",
        content_type="multipart/form-data",
        data={"organization_id": str(org_id), "source_system": "county-x", "file": (io.BytesIO(content), name)},
    )


@pytest.mark.parametrize("name", list(HOSTILE_WORKBOOKS))
def test_a_hostile_workbook_is_refused_at_upload_naming_the_limit(app, api_as, make_org, tmp_path, monkeypatch, name):
    settings, constants, build, message = HOSTILE_WORKBOOKS[name]
    for key, value in settings.items():
        monkeypatch.setitem(app.config, key, value)
    for key, value in constants.items():
        monkeypatch.setattr(file_limits, key, value)
    content = build(tmp_path)
    assert len(content) < 400_000  # small on disk, like the issue's files
    api, org = api_as(role=Role.admin), make_org()
    before = counts()
    response = upload(api, org.id, content)
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    assert response.get_json()["errors"] == {"json": {"file": [message]}}
    assert counts() == before
    assert upload_folder(tmp_path) == []


def test_the_issues_files_are_as_small_as_its_report(tmp_path):
    """0.13 MB for 3 million shared strings, 70 KB for 8 million blank rows: what the tests above refuse."""
    strings = workbook(tmp_path, {SHEET: sheet_xml(), STRINGS: shared_strings(3_000_000, stated=True)})
    blank = workbook(tmp_path, {SHEET: sheet_xml("<row/>" * 8_000_000)})
    assert len(strings) < 150_000 and len(blank) < 80_000


def test_the_header_check_reads_a_sheet_only_up_to_its_first_row(tmp_path):
    """openpyxl looked for the size of a sheet that states none by parsing all of it when the workbook opened:
    the header check took as long as the sheet (a file damaged at its end was refused at upload). Now the end of
    the sheet is first read by the import."""
    rows = "".join(f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>J{n}</t></is></c></row>' for n in range(2, 20_000))
    damaged = sheet_xml(rows).replace(b"</sheetData></worksheet>", b'<row r="20000"><c r="A20000"')
    path = tmp_path / "damaged.xlsx"
    path.write_bytes(workbook(tmp_path, {SHEET: damaged}))
    assert check_header(path).missing == []
    with open_sheet(path, FileLimits.configured()) as reader, pytest.raises(UnusableFile) as refused:
        for _ in reader.rows():
            pass
    assert refused.value.message == "第 20000 行附近的 xlsx 内容无法读取"


# --- limits reached while importing ---------------------------------------------------------------------------

ROW_GAP = sheet_xml('<row r="8000000"><c r="A8000000" t="inlineStr"><is><t>J1</t></is></c></row>')


@pytest.mark.parametrize(
    ("name", "settings", "content", "message"),
    [
        # 8 million rows in a few bytes, the sheet stating no size: stopped at the row limit, not counted out
        ("gap.xlsx", {}, lambda tmp: workbook(tmp, {SHEET: ROW_GAP}), ROWS),
        (
            "rows.csv",
            {"IMPORT_MAX_ROWS": 5},
            lambda tmp: write_csv(tmp / "rows.csv", sample_rows()).read_bytes(),
            "工作表超过 5 行，请拆分文件",
        ),
    ],
)
def test_a_row_limit_the_file_does_not_state_stops_the_import(
    app, api_as, make_org, tmp_path, monkeypatch, name, settings, content, message
):
    for key, value in settings.items():
        monkeypatch.setitem(app.config, key, value)
    api, org = api_as(role=Role.admin), make_org()
    response = upload(api, org.id, content(tmp_path), name=name)
    assert response.status_code == 202
    job = response.get_json()
    assert (job["status"], job["message"], job["imported"]) == ("failed", message, 0)
    assert counts()[0] == 0
    assert [f for f in upload_folder(tmp_path) if f.startswith("upload-")] == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b",".join(h.encode() for h in HEADER) + b"x" * (2 * MB), "第 1 行过长（超过 262,144 个字符）"),
        (",".join(HEADER + ["x"] * 300).encode(), COLUMNS_256),
    ],
    ids=["a line of 2 MB", "300 columns"],
)
def test_a_hostile_csv_is_refused_at_upload(api_as, make_org, tmp_path, content, message):
    api, org = api_as(role=Role.admin), make_org()
    response = upload(api, org.id, content, name="cases.csv")
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"json": {"file": [message]}}
    assert counts() == (0, 0) and upload_folder(tmp_path) == []


INLINE_CELL = re.compile(rb'<c ([^>]*?)t="inlineStr"><is><t>(.*?)</t></is></c>', re.DOTALL)
SHARED_STRINGS_TYPE = b"application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
SHARED_STRINGS_REL = b"http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"


def as_excel_writes_it(source, target) -> None:
    """The workbook with its texts in a shared-strings table, as Excel writes them (openpyxl writes them inline)."""
    strings: dict[bytes, int] = {}

    def shared(match: re.Match) -> bytes:
        return b'<c %st="s"><v>%d</v></c>' % (match.group(1), strings.setdefault(match.group(2), len(strings)))

    with zipfile.ZipFile(source) as original, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for name in original.namelist():
            data = original.read(name)
            if name == SHEET:
                data = INLINE_CELL.sub(shared, data)
            elif name == "[Content_Types].xml":
                data = data.replace(
                    b"</Types>",
                    b'<Override PartName="/xl/sharedStrings.xml" ContentType="%s"/></Types>' % SHARED_STRINGS_TYPE,
                )
            elif name == "xl/_rels/workbook.xml.rels":
                data = data.replace(
                    b"</Relationships>",
                    b'<Relationship Type="%s" Target="sharedStrings.xml" '
                    b'Id="rIdStrings"/></Relationships>' % SHARED_STRINGS_REL,
                )
            out.writestr(name, data)
        table = b"".join(b"<si><t>%s</t></si>" % text for text in strings)
        out.writestr(STRINGS, b'<sst xmlns="%s" uniqueCount="%d">%s</sst>' % (MAIN_NS.encode(), len(strings), table))


def test_a_workbook_with_shared_strings_imports_as_its_csv(make_org, tmp_path):
    """Shared strings are read as the cells ask for them: a workbook as Excel writes it (a shared-strings table,
    date cells) gives the csv's result."""
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    for data in sample_rows():
        sheet.append([excel_value(data.get(name, "")) for name in HEADER])
    book.save(tmp_path / "inline.xlsx")
    as_excel_writes_it(tmp_path / "inline.xlsx", tmp_path / "shared.xlsx")
    with zipfile.ZipFile(tmp_path / "shared.xlsx") as archive:
        assert b't="s"' in archive.read(SHEET) and b"inlineStr" not in archive.read(SHEET)
    org = make_org()
    summary = import_file(tmp_path / "shared.xlsx", org.id, SYSTEM)
    by_csv = import_file(write_csv(tmp_path / "same.csv", sample_rows("K")), org.id, SYSTEM)
    assert (
        (summary.total, summary.imported, summary.failed) == (by_csv.total, by_csv.imported, by_csv.failed) == (9, 5, 4)
    )
    assert [(f.row, f.column) for f in summary.failures] == [(f.row, f.column) for f in by_csv.failures]


# --- request bodies ---------------------------------------------------------------------------------------------


def chunked(client, url: str, body: bytes, headers: dict, content_type: str = "application/json"):
    """A POST without Content-Length, as a chunked body reaches the app from gunicorn."""
    environ = EnvironBuilder(
        path=url, method="POST", data=body, content_type=content_type, headers=headers
    ).get_environ()
    del environ["CONTENT_LENGTH"]
    environ.update({"HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input_terminated": True})
    return client.open(Request(environ))


@pytest.mark.parametrize("sent", ["sized", "chunked"])
def test_a_2mb_json_body_to_register_a_case_is_a_413_unread(api_as, client, sent):
    api = api_as(role=Role.admin)
    body = b'{"summary": "' + b"x" * (2 * MB) + b'"}'
    before = counts()
    if sent == "sized":
        response = api.post("/api/v1/cases", data=body, content_type="application/json")
    else:
        response = chunked(client, "/api/v1/cases", body, api.headers)
    assert_json_error(response, 413, TOO_LARGE_JSON)
    assert counts() == before


@pytest.mark.parametrize("sent", ["sized", "chunked"])
def test_the_anonymous_token_call_takes_a_few_kb(client, sent):
    body = b'{"username": "' + b"a" * 100_000 + b'", "password": "x"}'
    if sent == "sized":
        response = client.post("/api/v1/auth/token", data=body, content_type="application/json")
    else:
        response = chunked(client, "/api/v1/auth/token", body, {})
    assert_json_error(response, 413, TOO_LARGE_TOKEN)


def test_a_chunked_body_within_the_limit_is_read_whole(client, make_user):
    """werkzeug's limited stream alone hands a reader the first ``limit`` bytes of a longer chunked body as if
    they were all of it; the hub reads such a body itself, so a body within the limit arrives whole."""
    user = make_user()
    db.session.commit()
    body = f'{{"username": "{user.username}", "password": "{PASSWORD}"}}'.encode()
    response = chunked(client, "/api/v1/auth/token", body + b" " * 4000, {})
    assert response.status_code == 201, response.get_json()


def test_a_page_form_too_large_is_the_chinese_413_page(signed_in):
    client = signed_in(role=Role.mediator)
    response = client.post("/cases/new", data={"summary": "纠纷" * (MB // 8)})  # 2.3 MB as a form sends it
    assert response.status_code == 413 and response.mimetype == "text/html"
    assert "请求内容过大（上限 1 MB）" in response.get_data(as_text=True)
    assert counts() == (0, 0)


@pytest.mark.parametrize("via", ["api", "page"])
def test_an_upload_over_the_limit_is_a_413_and_leaves_no_file(
    app, api_as, signed_in, make_org, make_user, tmp_path, monkeypatch, via
):
    monkeypatch.setitem(app.config, "MAX_UPLOAD_MB", 1)
    org = make_org()
    rows = sample_rows() * 1200  # 1.5 MB of csv
    content = write_csv(tmp_path / "big.csv", rows).read_bytes()
    assert 1.2 * MB < len(content) < 3 * MB
    data = {"organization_id": str(org.id), "source_system": "county-x", "file": (io.BytesIO(content), "big.csv")}
    if via == "api":
        response = api_as(role=Role.admin).post("/api/v1/imports/cases", data=data, content_type="multipart/form-data")
        assert_json_error(response, 413, "请求内容过大（上限 1 MB）")
    else:
        client = signed_in(make_user(role=Role.admin))
        assert "文件不超过 1 MB" in client.get("/imports/cases").get_data(as_text=True)
        response = client.post("/imports/cases", data=data, content_type="multipart/form-data")
        assert response.status_code == 413 and "请求内容过大（上限 1 MB）" in response.get_data(as_text=True)
    assert counts() == (0, 0) and upload_folder(tmp_path) == []


def test_a_form_field_too_large_in_an_upload_is_a_413_naming_the_field_limit(api_as, make_org, tmp_path):
    """An upload may be 20 MB; one of its text fields not: werkzeug refuses it while parsing the form."""
    data = {
        "organization_id": str(make_org().id),
        "source_system": "x" * (MB + 1),
        "file": (io.BytesIO(write_csv(tmp_path / "cases.csv", sample_rows()).read_bytes()), "cases.csv"),
    }
    response = api_as(role=Role.admin).post("/api/v1/imports/cases", data=data, content_type="multipart/form-data")
    assert_json_error(response, 413, "表单的字段过大或过多（每个字段上限 1 MB，最多 1000 个字段）")
    assert counts() == (0, 0) and upload_folder(tmp_path) == []


def test_an_upload_within_the_limit_is_taken(app, api_as, make_org, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_UPLOAD_MB", 1)
    content = write_csv(tmp_path / "small.csv", sample_rows()).read_bytes()
    response = upload(api_as(role=Role.admin), make_org().id, content, name="small.csv")
    assert response.status_code == 202 and response.get_json()["imported"] == 5


# --- no file left behind ----------------------------------------------------------------------------------------


def test_an_upload_that_fails_unexpectedly_leaves_no_file(api_as, make_org, tmp_path, monkeypatch):
    def broken(path, limits=None):
        raise RuntimeError("the header check failed")

    monkeypatch.setattr(jobs, "check_header", broken)
    content = write_csv(tmp_path / "cases.csv", sample_rows()).read_bytes()
    response = upload(api_as(role=Role.admin), make_org().id, content, name="cases.csv")
    assert response.status_code == 500
    assert upload_folder(tmp_path) == []


def test_a_job_whose_commit_fails_leaves_no_file(api_as, make_org, tmp_path, monkeypatch):
    session = db.session()  # the request's session: the unit of work (core.uow) commits it
    commit = session.commit

    def failing_once():
        """The commit of the new job fails (a database gone away); any commit before it goes through."""
        if not any(isinstance(obj, ImportJob) for obj in db.session.identity_map.values()):
            return commit()
        monkeypatch.setattr(session, "commit", commit)
        raise sa.exc.OperationalError("COMMIT", {}, Exception("server closed the connection"))

    api, org = api_as(role=Role.admin), make_org()
    monkeypatch.setattr(session, "commit", failing_once)
    response = upload(api, org.id, write_csv(tmp_path / "cases.csv", sample_rows()).read_bytes(), name="cases.csv")
    assert response.status_code == 503
    assert upload_folder(tmp_path) == []


# --- settings -----------------------------------------------------------------------------------------------------


def test_the_endpoints_with_their_own_limit_exist(app):
    assert set(app.view_functions) >= body_limits.UPLOAD_ENDPOINTS | body_limits.ANONYMOUS_ENDPOINTS


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MAX_JSON_KB", "0"),
        ("MAX_UPLOAD_MB", "0"),
        ("IMPORT_MAX_ROWS", "1"),
        ("IMPORT_MAX_COLUMNS", "25"),
        ("IMPORT_MAX_COLUMNS", "16385"),
        ("XLSX_MAX_UNCOMPRESSED_MB", "0"),
        ("XLSX_MAX_SHARED_STRINGS", "999"),
        ("MAX_UPLOAD_MB", "twenty"),
    ],
)
def test_a_limit_that_cannot_work_stops_the_start(monkeypatch, tmp_path, name, value):
    monkeypatch.setenv(f"MEDIATION_HUB_{name}", value)
    with pytest.raises(ConfigError, match=name):
        _validated_settings(tmp_path)


def _validated_settings(instance_path) -> Config:
    """The settings read from the environment (a bad value may stop the reading or the validation)."""
    settings = Config(instance_path)
    settings.SQLALCHEMY_DATABASE_URI = "sqlite://"
    settings.validate()
    return settings


def test_the_default_limits_fit_a_real_import(tmp_path):
    """The import layout fits the columns; Excel's own sheet fits the rows; a 20 MB upload is the default."""
    settings = Config(tmp_path)
    assert len(COLUMNS) <= settings.IMPORT_MAX_COLUMNS
    assert (settings.MAX_JSON_KB, settings.MAX_UPLOAD_MB, settings.IMPORT_MAX_ROWS) == (1024, 20, 1_048_576)
