"""Render the first page of every document to PNG in docs/documents/, so a reader sees what the paper looks like.

    .venv/bin/python -m tools.document_previews            # writes docs/documents/<kind>.png

A throwaway SQLite hub with the reference and demo data; one neighbour dispute of the 保定竞秀 committee run
through the real services (particulars, two sessions, a written agreement, a follow-up) and one legal-aid
application at the 保定 centre (materials requested and received, granted, a lawyer assigned), dated relative to
today. Each document is built as the service builds it, with masked numbers (these pictures are public), and
its first page typeset to PNG by the same Typst template as the PDF."""

from __future__ import annotations

import argparse
import tempfile
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "documents"


def _case(today, form="written"):
    import sqlalchemy as sa

    from mediation_hub.cases import service as cases
    from mediation_hub.core.actor import SYSTEM
    from mediation_hub.demo import demo_id_number
    from mediation_hub.extensions import db
    from mediation_hub.registry.models import Mediator, Organization

    org = db.session.scalar(sa.select(Organization).where(Organization.name == "竞秀区先锋街道人民调解委员会"))
    mediator = db.session.scalar(sa.select(Mediator).where(Mediator.organization_id == org.id))
    received = today - timedelta(days=20)
    parties = [
        {
            "role": "applicant",
            "kind": "person",
            "name": "王淑华",
            "region_code": "130602",
            "gender": "female",
            "ethnicity": "汉族",
            "occupation": "退休教师",
            "address": "保定市竞秀区先锋街道朝阳北大街 12 号 3 单元 402 室",
            "id_number": demo_id_number("130602", received.replace(year=1958, day=12), "042"),
            "phone": "13803120001",
        },
        {
            "role": "respondent",
            "kind": "person",
            "name": "刘建军",
            "region_code": "130602",
            "gender": "male",
            "ethnicity": "回族",
            "occupation": "个体经营",
            "address": "保定市竞秀区先锋街道朝阳北大街 12 号 3 单元 502 室",
            "id_number": demo_id_number("130602", received.replace(year=1979, day=3), "013"),
            "phone": "13903120002",
        },
    ]
    case, _ = cases.register_case(
        SYSTEM,
        {
            "organization_id": org.id,
            "category": "neighbour",
            "source": "party_application",
            "summary": "被申请人家中卫生间防水层老化，自去年十一月起多次向楼下申请人家中渗水，"
            "致申请人卫生间及客厅吊顶、墙面受损。申请人多次上门协商未果，请求被申请人修复防水层并赔偿维修费用。",
            "received_on": received,
            "occurred_region_code": "130602",
            "amount_yuan": "4800.00",
            "mediator_ids": [mediator.id],
            "parties": parties,
        },
    )
    cases.accept_case(SYSTEM, case.id, accepted_on=received, mediator_id=mediator.id)
    cases.record_session(
        SYSTEM,
        case.id,
        held_on=received + timedelta(days=2),
        mediator_id=mediator.id,
        summary="双方到场。申请人陈述渗水经过并出示照片；被申请人承认卫生间防水层老化，"
        "但认为维修费用报价过高。调解员释明相邻关系的法律规定，约定由物业公司现场查看后再行调解。",
        place="先锋街道人民调解委员会调解室",
        recorder="李红",
        attendees="申请人 王淑华\n被申请人 刘建军\n物业公司 张明（列席）",
    )
    cases.record_session(
        SYSTEM,
        case.id,
        held_on=received + timedelta(days=6),
        mediator_id=mediator.id,
        summary="物业公司出具查看意见，确认渗水源自被申请人卫生间。双方就维修方式和费用达成一致。",
        place="先锋街道人民调解委员会调解室",
        attendees="申请人 王淑华\n被申请人 刘建军",
        recorder="李红",
    )
    cases.conclude_case(
        SYSTEM,
        case.id,
        outcome="agreement",
        concluded_on=received + timedelta(days=6),
        agreement_amount_yuan="3600.00",
        agreement_form=form,
        terms="一、被申请人于本协议签订之日起十五日内自行修复卫生间防水层，并经物业公司验收合格；\n"
        "二、被申请人于本协议签订之日起十日内一次性支付申请人房屋维修费人民币 3,600.00 元；\n"
        "三、双方就本纠纷再无其他争议。",
    )
    cases.record_follow_up(
        SYSTEM,
        case.id,
        visited_on=received + timedelta(days=18),
        performed=True,
        summary="被申请人已修复防水层并付清维修费，双方表示满意。",
        method="visit",
        visitor="陈玉梅",
    )
    return case


def _application(today):
    import sqlalchemy as sa

    from mediation_hub.core.actor import SYSTEM
    from mediation_hub.demo import demo_id_number
    from mediation_hub.extensions import db
    from mediation_hub.legal_aid import service as legal_aid
    from mediation_hub.registry.models import Organization

    centre = db.session.scalar(sa.select(Organization).where(Organization.name == "保定市法律援助中心"))
    filed = today - timedelta(days=12)
    application = legal_aid.file_application(
        SYSTEM,
        {
            "centre_id": centre.id,
            "matter_category": "labour_remuneration",
            "matter_region_code": "130602",
            "hardship": "declaration",
            "exempt_group": None,
            "received_on": filed,
            "summary": "申请人在保定某建筑工地务工，用人单位拖欠 2026 年 5 月至 9 月工资共计 23,500 元，"
            "拟申请劳动仲裁。",
            "applicant": {
                "name": "赵春生",
                "id_number": demo_id_number("130602", filed.replace(year=1982, day=9), "057"),
                "phone": "13703120003",
                "region_code": "130602",
                "gender": "male",
                "ethnicity": "汉族",
                "address": "保定市竞秀区韩村乡东韩村 88 号",
                "occupation": "建筑工人",
            },
        },
    )
    legal_aid.request_supplement(
        SYSTEM,
        application.id,
        requested_on=filed,
        due_on=filed + timedelta(days=5),
        items="劳动关系证明（工作证、考勤记录或工友证言）\n欠薪数额的证明材料",
    )
    legal_aid.record_supplement_received(SYSTEM, application.id, received_on=filed + timedelta(days=3))
    if application.accepted_on is None:
        legal_aid.accept_application(SYSTEM, application.id, accepted_on=filed + timedelta(days=3))
    legal_aid.decide_application(SYSTEM, application.id, granted=True, decided_on=filed + timedelta(days=4))
    legal_aid.assign_lawyer(SYSTEM, application.id, lawyer_name="孙立新", assigned_on=filed + timedelta(days=5))
    return application


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    from bench.common import BENCH_KEYS
    from mediation_hub import create_app
    from mediation_hub.core.actor import SYSTEM
    from mediation_hub.core.shanghai import today_shanghai
    from mediation_hub.extensions import db

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/previews.db", **BENCH_KEYS})
        with app.app_context():
            from mediation_hub.documents import render, service  # once the app has loaded every model
            from mediation_hub.documents.kinds import KINDS
            from mediation_hub.seed import seed_demo, seed_reference

            db.create_all()
            seed_reference()
            seed_demo()
            today = today_shanghai()
            written, oral, application = _case(today), _case(today, "oral"), _application(today)
            db.session.commit()
            args.out.mkdir(parents=True, exist_ok=True)
            for owner, record in ((service.CASE, written), (service.LEGAL_AID, application)):
                for name, kind in KINDS[owner].items():
                    # the oral agreement's form is the second case's
                    subject = record if kind.available(record, today) is None else oral
                    issued = service.issue(SYSTEM, owner, subject.id, name)  # numbers it, as a print would
                    doc = service.build(
                        SYSTEM,
                        owner,
                        kind,
                        subject,
                        full=False,
                        number=issued.number,
                        item=service._item(kind, subject, None),
                        options={"retention": "长期"},
                    )
                    pages = render.png_pages(doc, issued.digest, ppi=72)
                    (args.out / f"{name}.png").write_bytes(pages[0])
                    if name == "file":
                        (args.out / "file-contents.png").write_bytes(pages[1])
                    print(f"{name:26} {len(pages):3} page(s)")
            db.session.rollback()


if __name__ == "__main__":
    main()
