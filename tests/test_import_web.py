"""The import through the API and the pages: upload, job, progress endpoint, summary, error report, scope."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pytest

from mediation_hub.core.actor import SYSTEM, Role
from mediation_hub.core.db import utcnow
from mediation_hub.extensions import db
from mediation_hub.imports import jobs
from mediation_hub.imports.models import ImportJob, ImportStatus
from mediation_hub.imports.tasks import ABANDONED_MESSAGE, fail_abandoned_imports
from tests.import_samples import HEADER, row, sample_rows, write_csv


@pytest.fixture(autouse=True)
def _imports_inline(app, monkeypatch, tmp_path):
    """Run imports in the request (the test's transaction is invisible to a background thread)."""
    monkeypatch.setitem(app.config, "IMPORT_RUN_INLINE", True)
    monkeypatch.setitem(app.config, "IMPORT_DIR", str(tmp_path / "imports"))


def sample_file(tmp_path, rows=None, **kwargs) -> bytes:
    return write_csv(tmp_path / "upload.csv", rows or sample_rows(), **kwargs).read_bytes()


def upload(api, tmp_path, org_id, content=None, name="历史案件.csv"):
    data = {
        "organization_id": str(org_id),
        "source_system": "county-x",
        "file": (io.BytesIO(content or sample_file(tmp_path)), name),
    }
    return api.post("/api/v1/imports/cases", data=data, content_type="multipart/form-data")


# --- API -------------------------------------------------------------------------------------------------------


def test_api_upload_returns_the_job_and_its_error_report(api_as, make_org, tmp_path):
    org = make_org()
    api = api_as(role=Role.admin)
    response = upload(api, tmp_path, org.id)
    assert response.status_code == 202, response.json
    job = response.json
    assert {
        k: job[k]
        for k in (
            "organization_id",
            "filename",
            "source_system",
            "status",
            "total_rows",
            "processed_rows",
            "imported",
            "skipped",
            "failed",
            "progress",
        )
    } == {
        "organization_id": org.id,
        "filename": "历史案件.csv",
        "source_system": "county-x",
        "status": "done",
        "total_rows": 9,
        "processed_rows": 9,
        "imported": 5,
        "skipped": 0,
        "failed": 4,
        "progress": 1.0,
    }
    assert job["errors_url"] == f"/api/v1/imports/{job['id']}/errors"

    assert api.get(f"/api/v1/imports/{job['id']}").json["imported"] == 5
    report = api.get(job["errors_url"])
    assert report.status_code == 200 and report.mimetype == "text/csv"
    lines = report.data.decode("utf-8-sig").splitlines()
    assert lines[0] == "行号,原系统案号,字段,原因"
    assert [line.split(",")[:3] for line in lines[1:]] == [
        ["4", "J003", "申请人证件号码"],
        ["5", "J004", "登记日期"],
        ["6", "J005", "发生地行政区划代码"],
        ["7", "J001", "原系统案号"],
    ]

    again = upload(api, tmp_path, org.id)
    assert (again.json["imported"], again.json["skipped"], again.json["failed"]) == (0, 6, 3)


def test_api_refuses_a_file_without_the_layout_at_once(api_as, make_org, tmp_path):
    api = api_as(role=Role.admin)
    content = sample_file(tmp_path, header=[h for h in HEADER if h != "原系统案号"])
    response = upload(api, tmp_path, make_org().id, content)
    assert response.status_code == 422
    assert response.json["errors"]["json"] == {"file": ["缺少必需的列：原系统案号（表头与导入格式不符，见导入说明）"]}
    assert db.session.query(ImportJob).count() == 0
    assert upload(api, tmp_path, make_org().id, b"x", name="cases.pdf").status_code == 422


def test_api_scope_of_imports(api_as, make_org, make_user, tmp_path):
    own, other = make_org(), make_org()
    mediator = api_as(role=Role.mediator, organization=own)
    job = upload(mediator, tmp_path, own.id).json
    assert job["imported"] == 5
    refused = upload(mediator, tmp_path, other.id)
    assert refused.status_code == 422 and "organization_id" in refused.json["errors"]["json"]
    assert upload(api_as(role=Role.coordinator), tmp_path, own.id).status_code == 403

    stranger = api_as(role=Role.mediator, organization=other)
    assert stranger.get(f"/api/v1/imports/{job['id']}").status_code == 404
    assert stranger.get(f"/api/v1/imports/{job['id']}/errors").status_code == 404
    assert api_as(role=Role.registry_admin, region_code="110000").get(f"/api/v1/imports/{job['id']}").status_code == 200
    assert api_as(role=Role.registry_admin, region_code="130000").get(f"/api/v1/imports/{job['id']}").status_code == 404


# --- pages -----------------------------------------------------------------------------------------------------


def test_upload_page_runs_the_import_and_shows_the_summary(signed_in, make_user, make_org, tmp_path):
    org = make_org(name="朝阳调解委员会")
    client = signed_in(make_user(role=Role.admin))
    page = client.get("/imports/cases")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "朝阳调解委员会" in html and "原系统案号 *" in html and 'enctype="multipart/form-data"' in html

    response = client.post(
        "/imports/cases",
        data={
            "organization_id": str(org.id),
            "source_system": "county-x",
            "file": (io.BytesIO(sample_file(tmp_path)), "历史案件.csv"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    job_page = client.get(response.headers["Location"])
    html = job_page.get_data(as_text=True)
    assert "导入完成：共 9 行，导入 5 行，跳过 0 行，失败 4 行。" in html
    assert "<td>4</td><td>J003</td><td>申请人证件号码</td><td>身份证号码校验位错误</td>" in html
    assert "下载错误报告" in html and "js/import.js" not in html  # finished: no polling

    job = db.session.query(ImportJob).one()
    status = client.get(f"/imports/{job.id}/status").json
    assert status == {
        "status": "done",
        "status_label": "已完成",
        "finished": True,
        "progress": 1.0,
        "processed_rows": 9,
        "imported": 5,
        "skipped": 0,
        "failed": 4,
    }
    report = client.get(f"/imports/{job.id}/errors.csv")
    assert report.status_code == 200 and report.data.startswith("\ufeff行号".encode())
    assert "历史案件.csv" in client.get("/imports/cases").get_data(as_text=True)  # listed under recent imports


def test_upload_page_shows_a_wrong_header_beside_the_file(signed_in, make_user, make_org, tmp_path):
    org = make_org()
    client = signed_in(make_user(role=Role.mediator, organization=org))
    content = sample_file(tmp_path, header=[h for h in HEADER if h not in ("纠纷类型", "案件来源")])
    response = client.post(
        "/imports/cases",
        data={"organization_id": str(org.id), "source_system": "x", "file": (io.BytesIO(content), "a.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    assert "缺少必需的列：纠纷类型、案件来源" in response.get_data(as_text=True)
    assert db.session.query(ImportJob).count() == 0


@pytest.mark.parametrize("role", [Role.coordinator, Role.legal_aid_officer])
def test_other_roles_may_not_import(role, signed_in, make_user):
    assert signed_in(make_user(role=role)).get("/imports/cases").status_code == 403


def test_progress_page_polls_while_the_job_runs(signed_in, make_user, make_org, tmp_path):
    org = make_org()
    admin = make_user(role=Role.admin)
    client = signed_in(admin)
    job = jobs.create_job(
        admin.to_actor(),
        organization_id=org.id,
        filename="a.csv",
        upload=io.BytesIO(sample_file(tmp_path, [row("Q1")])),
    )
    db.session.commit()
    html = client.get(f"/imports/{job.id}").get_data(as_text=True)
    assert f'data-status-url="/imports/{job.id}/status"' in html and "js/import.js" in html
    assert '<progress id="import-bar" max="100" value="0">' in html
    assert client.get(f"/imports/{job.id}/status").json["finished"] is False
    assert client.get(f"/imports/{job.id}/errors.csv").status_code == 409  # no report before the end

    assert jobs.run_job(job.id) == ImportStatus.done
    assert jobs.run_job(job.id) is None  # claimed once only
    assert client.get(f"/imports/{job.id}/status").json["imported"] == 1
    assert list((tmp_path / "imports").glob("upload-*")) == []  # the upload (personal data in clear) is gone


def test_a_job_whose_file_vanished_fails_with_a_message(make_org, tmp_path):
    org = make_org()
    job = jobs.create_job(
        SYSTEM, organization_id=org.id, filename="a.csv", upload=io.BytesIO(sample_file(tmp_path, [row("Q1")]))
    )
    db.session.commit()
    Path(job.upload_path).unlink()
    assert jobs.run_job(job.id) == ImportStatus.failed
    db.session.refresh(job)
    assert (job.status, job.message) == (ImportStatus.failed, "导入过程中出现内部错误")
    assert job.finished_at is not None


def test_abandoned_jobs_are_marked_failed(make_org, tmp_path):
    org = make_org()
    now = utcnow()
    stale = ImportJob(
        organization_id=org.id,
        source_system="x",
        filename="a.csv",
        status=ImportStatus.running,
        started_at=now - timedelta(hours=1),
        heartbeat_at=now - timedelta(minutes=16),
    )
    alive = ImportJob(
        organization_id=org.id,
        source_system="x",
        filename="b.csv",
        status=ImportStatus.running,
        started_at=now - timedelta(hours=1),
        heartbeat_at=now - timedelta(minutes=1),
    )
    never = ImportJob(
        organization_id=org.id,
        source_system="x",
        filename="c.csv",
        status=ImportStatus.queued,
        created_at=now - timedelta(minutes=20),
    )
    db.session.add_all([stale, alive, never])
    db.session.flush()
    assert fail_abandoned_imports(now) == 2
    db.session.expire_all()
    assert [(j.status, j.message) for j in (stale, alive, never)] == [
        (ImportStatus.failed, ABANDONED_MESSAGE),
        (ImportStatus.running, None),
        (ImportStatus.failed, ABANDONED_MESSAGE),
    ]
