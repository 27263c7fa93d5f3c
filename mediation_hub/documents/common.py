"""What the builders share: the context a document is built in, and how a person's particulars print."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ..cases.models import FollowUp, MediationSession
from ..core.pii import mask_id_number, mask_phone

GENDER_LABELS = {"male": "男", "female": "女"}


@dataclass
class Context:
    """``full_numbers``: the document shows full ID numbers and phones (the agreement and the 司法确认 application,
    for a user of the handling organisation; audited); else the masked ones. ``number``: the record's document
    number in the kind's series, None for a kind that has none. ``item``: the session or follow-up of a per-item
    kind. ``today``: the day it is generated (Asia/Shanghai)."""

    full_numbers: bool
    today: date
    number: str | None = None
    item: MediationSession | FollowUp | None = None


def id_number(holder, ctx: Context) -> str:
    """The holder's ID number (or USCC), full or masked as the context says; empty when none is recorded."""
    if ctx.full_numbers:
        return holder.full_id_number() or ""
    return holder.id_number_masked or ""


def phone(holder, ctx: Context) -> str:
    if ctx.full_numbers:
        return holder.full_phone() or ""
    return holder.phone_masked or ""


def gender(value: str | None) -> str:
    return GENDER_LABELS.get(value or "", "")


def age_on(holder, on: date) -> str:
    """Age in whole years on ``on``, read from the resident ID number's birth date; empty without one."""
    number = holder.full_id_number() if getattr(holder, "id_number_enc", None) else None
    if not number or len(number) != 18:
        return ""
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return ""
    years = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
    return f"{years}岁"


__all__ = ["Context", "age_on", "gender", "id_number", "mask_id_number", "mask_phone", "phone"]
