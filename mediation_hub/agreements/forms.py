"""Agreement page forms (Flask-WTF). They check the shape; the service checks the business rules."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from ..core.dates import DateField
from .models import KIND_LABELS, SCOPE_LABELS, AgreementKind, AgreementScope

# How a proposal's fields are named on its page.
FIELD_LABELS = {
    "code": _l("协议编号"),
    "name": _l("协议名称"),
    "kind": _l("类型"),
    "scope": _l("适用范围"),
    "member_codes": _l("成员区域"),
    "response_working_days": _l("答复时限(工作日)"),
    "signed_on": _l("签订日期"),
    "effective_from": _l("生效日期"),
    "effective_to": _l("失效日期"),
    "active": _l("状态"),
    "note": _l("备注"),
}
_CODE_SPLIT = re.compile(r"[,，、;；\s]+")


def split_codes(text: str | None) -> list[str]:
    """'110000，120000 130000' -> ['110000', '120000', '130000'] (order and repeats kept: the service judges)."""
    return [c.upper() for c in _CODE_SPLIT.split(text or "") if c]


class AgreementForm(FlaskForm):
    code = StringField(
        _l("协议编号"),
        validators=[DataRequired(), Length(min=2, max=40)],
        description=_l("大写字母、数字和连字符，如 JJJ-MEDIATION"),
    )
    name = StringField(_l("协议名称"), validators=[DataRequired(), Length(min=2, max=160)])
    kind = SelectField(_l("类型"), choices=[(k.value, v) for k, v in KIND_LABELS.items()])
    scope = SelectField(_l("适用范围"), choices=[(s.value, v) for s, v in SCOPE_LABELS.items()])
    member_codes = StringField(
        _l("成员区域"),
        validators=[DataRequired(), Length(max=600)],
        description=_l("行政区划代码，以逗号或空格分隔，如 110000 120000 130000；含其全部下级区域"),
    )
    response_working_days = IntegerField(
        _l("答复时限(工作日)"), default=3, validators=[DataRequired(), NumberRange(min=1, max=60)]
    )
    signed_on = DateField(_l("签订日期"), validators=[DataRequired()])
    effective_from = DateField(_l("生效日期"), validators=[Optional()], description=_l("不填则自签订之日起生效"))
    effective_to = DateField(_l("失效日期"), validators=[Optional()])
    note = TextAreaField(_l("备注"), validators=[Optional(), Length(max=2000)])

    def to_data(self, *, with_code: bool = True) -> dict:
        data = {
            "name": (self.name.data or "").strip(),
            "kind": AgreementKind(self.kind.data),
            "scope": AgreementScope(self.scope.data),
            "member_codes": split_codes(self.member_codes.data),
            "response_working_days": self.response_working_days.data,
            "signed_on": self.signed_on.data,
            "effective_from": self.effective_from.data,
            "effective_to": self.effective_to.data,
            "note": (self.note.data or "").strip() or None,
        }
        if with_code:
            data["code"] = (self.code.data or "").strip().upper()
        elif data["effective_from"] is None:
            data["effective_from"] = data["signed_on"]
        return data

    def attach_errors(self, errors: dict[str, list[str]]) -> dict[str, list[str]]:
        """Put each service message on its field; returns those no field of this form carries."""
        unplaced: dict[str, list[str]] = {}
        for name, messages in errors.items():
            field = self._fields.get(name)
            if field is None:
                unplaced[name] = list(messages)
            else:
                field.errors = [*field.errors, *messages]
        return unplaced


class ProposalActionForm(FlaskForm):
    """Confirm, withdraw or apply a proposal: nothing to fill in but the CSRF token."""


class ProposalDeclineForm(FlaskForm):
    reason = TextAreaField(_l("拒绝理由"), validators=[DataRequired(), Length(max=500)])

    def attach_errors(self, errors: dict[str, list[str]]) -> list[str]:
        """Put the service's messages on the reason (in place of the form's own); returns the others."""
        leftover = []
        for name, messages in errors.items():
            if name == "reason":
                self.reason.errors = list(messages)
            else:
                leftover.extend(messages)
        return leftover
