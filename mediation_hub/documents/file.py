"""The 人民调解卷宗: the cover, the 卷内目录 in the fixed order, then every document of the case.

人民调解法 art. 27: the committee files the registration, the records and the agreement as a 卷宗. The cover
and the 目录 follow the 司法部 format in use (卷名, 卷号 （年）…调字第 N 号, 人民调解员, 调解日期, 立卷人, 立卷日期,
保管期限; 目录 with 序号, 文书名称, 编号, 页号). The 目录's order is fixed: application, registration, rights
notice, the parties' proof of identity (paper, filed by hand), the session records, the agreement (written or
oral), the follow-ups, the 司法确认 application. Page numbers run through the whole file and the 目录 gives each
document's first page, counted by the typesetter. The texts are the paper's fixed Chinese wording."""

from __future__ import annotations

from ..auth.people import person_for_user
from ..cases.models import Case, ConfirmationStatus, FollowUp, MediationSession
from ..core.actor import Actor
from .blocks import Doc, chinese_date
from .common import Context
from .kinds import CASE_KINDS

PAPER_ONLY = "当事人身份证明"  # filed on paper by the mediator; listed so the 目录 is complete


def _entries(case: Case, ctx: Context) -> list[tuple[str, MediationSession | FollowUp | None]]:
    """(kind, item) of every document the file holds, in the 目录's order."""
    today = ctx.today
    entries: list[tuple[str, MediationSession | FollowUp | None]] = [("application", None)]
    for kind in ("registration", "rights_notice"):
        if CASE_KINDS[kind].available(case, today) is None:
            entries.append((kind, None))
    entries.append((PAPER_ONLY, None))
    entries += [("session_record", session) for session in case.sessions]
    for kind in ("agreement", "oral_agreement"):
        if CASE_KINDS[kind].available(case, today) is None:
            entries.append((kind, None))
    entries += [("follow_up", follow_up) for follow_up in case.follow_ups]
    if (
        case.confirmation_status != ConfirmationStatus.none
        or CASE_KINDS["confirmation_application"].available(case, today) is None
    ):
        entries.append(("confirmation_application", None))
    return entries


def _mediators(case: Case) -> str:
    ordered = sorted(case.mediators, key=lambda m: not m.lead)
    return "、".join(m.mediator.name for m in ordered)


def _dispute_name(case: Case) -> str:
    names = [p.name for p in case.parties if p.role.value in ("applicant", "respondent")]
    return f"{'与'.join(names[:2])}{'等' if len(names) > 2 else ''}{case.category.name}纠纷"


def build_file(actor: Actor, case: Case, ctx: Context, options: dict) -> Doc:
    """The whole file as one document: cover, 目录, then each document on its own pages."""
    numbered = {"registration", "agreement", "oral_agreement", "confirmation_application"}
    parts, toc = [], []
    for position, (kind, item) in enumerate(_entries(case, ctx), start=1):
        if kind == PAPER_ONLY:
            toc.append({"title": PAPER_ONLY, "number": None, "ref": "", "note": "纸质材料另附"})
            continue
        inner_ctx = Context(full_numbers=ctx.full_numbers, today=ctx.today, number=ctx.number, item=item)
        inner = CASE_KINDS[kind].build(case, inner_ctx)
        inner.number = ctx.number if kind in numbered else None
        ref = f"doc-{position}"
        title = inner.title + (
            f"（{chinese_date(item.held_on if isinstance(item, MediationSession) else item.visited_on)}）"
            if item is not None
            else ""
        )
        toc.append({"title": title, "number": inner.number, "ref": ref})
        parts.append({"t": "document", "ref": ref, "doc": inner.content()})
    ended = case.concluded_on or case.declined_on
    started = case.accepted_on or case.received_on
    cover = {
        "t": "cover",
        "title": "人民调解卷宗",
        "rows": [
            ["调解组织", case.organization.name],
            ["卷名", _dispute_name(case)],
            ["卷号", ctx.number or ""],
            ["人民调解员", _mediators(case)],
            ["调解日期", f"{chinese_date(started)} 至 {chinese_date(ended)}"],
            ["立卷人", person_for_user(actor.user_id).name if actor.user_id else ""],
            ["立卷日期", chinese_date(ctx.today)],
            ["保管期限", options.get("retention") or ""],
        ],
    }
    doc = Doc("人民调解卷宗", cover=True)
    doc.add(cover, {"t": "pagebreak"}, {"t": "toc", "entries": toc}, *parts)
    return doc
