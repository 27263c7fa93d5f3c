"""Page forms for cases. They only read the input into Python values; the service decides what is valid."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Length, NumberRange, Optional

from ..core.shanghai import today_shanghai
from .models import CaseStatus, PartyKind, PartyRole
from .rules import OUTCOME_LABELS, STATUS_LABELS
from .service.scope import PERSON_HASH, searched_number

PARTY_ROLE_LABELS = {PartyRole.applicant: "申请人", PartyRole.respondent: "被申请人", PartyRole.third_party: "第三人"}
PARTY_KIND_LABELS = {PartyKind.person: "自然人", PartyKind.organization: "法人或其他组织"}
YES_NO_UNKNOWN = [("", "未知"), ("true", "是"), ("false", "否")]


def optional_int(value):
    if value in (None, "", "None"):
        return None
    return int(value)


def optional_bool(value):
    """'true'/'false' from a select; anything else (the empty choice) is None."""
    if value in (True, False):
        return value
    return {"true": True, "false": False}.get(value)


class PartyForm(Form):
    """One party fieldset (no CSRF of its own: it lives inside the registration form)."""

    role = SelectField("角色", choices=[(r.value, label) for r, label in PARTY_ROLE_LABELS.items()])
    kind = SelectField("类型", choices=[(k.value, label) for k, label in PARTY_KIND_LABELS.items()])
    name = StringField("姓名或名称", validators=[Optional(), Length(max=120)])
    number = StringField("身份证号码 / 统一社会信用代码", validators=[Optional(), Length(max=30)])
    phone = StringField("联系电话", validators=[Optional(), Length(max=30)])
    region_code = StringField("所在地区", validators=[Optional(), Length(max=12)])

    def is_blank(self) -> bool:
        return not any((f.data or "").strip() for f in (self.name, self.number, self.phone, self.region_code))

    def to_data(self) -> dict:
        number_key = "id_number" if self.kind.data == PartyKind.person.value else "uscc"
        return {"role": self.role.data, "kind": self.kind.data, "name": (self.name.data or "").strip(),
                number_key: (self.number.data or "").strip() or None, "phone": (self.phone.data or "").strip() or None,
                "region_code": (self.region_code.data or "").strip() or None}


class RegisterCaseForm(FlaskForm):
    organization_id = SelectField("承办组织", coerce=optional_int, validate_choice=False)
    category = SelectField("纠纷类别")
    source = SelectField("案件来源")
    summary = TextAreaField("纠纷简要情况", validators=[Optional(), Length(max=4000)])
    received_on = DateField("登记日期", validators=[Optional()], default=today_shanghai)
    occurred_region_code = StringField("纠纷发生地", validators=[Optional(), Length(max=12)])
    amount_yuan = DecimalField("涉及金额 (元)", places=2, validators=[Optional(), NumberRange(min=0)])
    major = BooleanField("重大矛盾纠纷")
    studio_id = SelectField("调解工作室", coerce=optional_int)
    mediator_ids = SelectMultipleField("承办调解员", coerce=int)
    parties = FieldList(FormField(PartyForm), min_entries=2)

    def to_data(self) -> tuple[dict, list[int]]:
        """The service's input, and for each party in it the index of its fieldset on the page."""
        parties, positions = [], []
        for index, entry in enumerate(self.parties.entries):
            if entry.form.is_blank() and len(self.parties.entries) > 2:
                continue  # an extra fieldset added and left empty
            parties.append(entry.form.to_data())
            positions.append(index)
        data = {"category": self.category.data, "source": self.source.data, "summary": self.summary.data or "",
                "received_on": self.received_on.data,
                "occurred_region_code": (self.occurred_region_code.data or "").strip() or None,
                "amount_yuan": self.amount_yuan.data, "major": bool(self.major.data),
                "studio_id": self.studio_id.data, "mediator_ids": list(self.mediator_ids.data or []),
                "parties": parties}
        if self.organization_id.data is not None:
            data["organization_id"] = self.organization_id.data
        return data, positions


# --- the transitions: one small form each ---------------------------------------------------------------

class ActionForm(FlaskForm):
    version = HiddenField()

    def version_value(self) -> int | None:
        try:
            return int(self.version.data)
        except (TypeError, ValueError):
            return None


class AcceptForm(ActionForm):
    mediator_id = SelectField("承办调解员", coerce=optional_int, validate_choice=False)
    accepted_on = DateField("受理日期", validators=[Optional()], default=today_shanghai)


class DeclineForm(ActionForm):
    reason = TextAreaField("不予受理理由", validators=[Optional(), Length(max=2000)])
    declined_on = DateField("日期", validators=[Optional()], default=today_shanghai)


class SessionForm(ActionForm):
    held_on = DateField("调解日期", validators=[Optional()], default=today_shanghai)
    mediator_id = SelectField("主持调解员", coerce=optional_int, validate_choice=False)
    summary = TextAreaField("调解情况", validators=[Optional(), Length(max=4000)])


class ConcludeForm(ActionForm):
    outcome = SelectField("办结结果", choices=[(o.value, label) for o, label in OUTCOME_LABELS.items()])
    concluded_on = DateField("办结日期", validators=[Optional()], default=today_shanghai)
    agreement_amount_yuan = DecimalField("协议金额 (元)", places=2, validators=[Optional()])
    terms = TextAreaField("协议内容", validators=[Optional(), Length(max=4000)])
    performed = SelectField("是否已履行", choices=YES_NO_UNKNOWN, coerce=optional_bool)


class ExtendForm(ActionForm):
    days = IntegerField("延长天数", validators=[Optional()])
    consent_note = TextAreaField("当事人同意情况", validators=[Optional(), Length(max=2000)])


class ApplyConfirmationForm(ActionForm):
    applied_on = DateField("申请日期", validators=[Optional()], default=today_shanghai)
    court = StringField("受理法院", validators=[Optional(), Length(max=120)])


class ConfirmationResultForm(ActionForm):
    confirmed = SelectField("司法确认结果", choices=[("true", "确认有效"), ("false", "驳回申请")], coerce=optional_bool)
    decided_on = DateField("裁定日期", validators=[Optional()], default=today_shanghai)


class FollowUpForm(ActionForm):
    visited_on = DateField("回访日期", validators=[Optional()], default=today_shanghai)
    summary = TextAreaField("回访情况", validators=[Optional(), Length(max=4000)])
    performed = SelectField("协议履行情况", choices=YES_NO_UNKNOWN, coerce=optional_bool)


class RevealForm(FlaskForm):
    """Only the CSRF token: revealing is a POST so it cannot be triggered by a link."""


class CaseFilterForm(Form):
    """The case list's filters, read from the query string (no CSRF: a GET that changes nothing). The form on
    the page is posted, and answered with a redirect to the list's query string (``views.search_case_list``):
    a full ID number or phone typed into ``q`` travels as its keyed hash ``pid``, ``q`` then shows it masked."""

    status = SelectField("状态", choices=[("", "全部")] + [(s.value, label) for s, label in STATUS_LABELS.items()],
                         validate_choice=False)
    category = SelectField("类别", validate_choice=False)
    date_from = DateField("登记日期自", validators=[Optional()])
    date_to = DateField("至", validators=[Optional()])
    region_code = StringField("地区", validators=[Optional(), Length(max=12)])
    studio_id = SelectField("工作室", coerce=optional_int, validate_choice=False)
    overdue = SelectField("超期", choices=[("", "全部"), ("1", "已超期"), ("0", "未超期")], validate_choice=False)
    q = StringField("关键词", validators=[Optional(), Length(max=60)])
    pid = HiddenField()

    def searched_hash(self) -> str | None:
        """``pid`` if it is a keyed hash (anything else in it is ignored, never shown)."""
        return self.pid.data if PERSON_HASH.fullmatch(self.pid.data or "") else None

    def filters(self) -> dict:
        """Keyword arguments for ``search_cases`` from the fields that read correctly. A full ID number or phone
        is never among them (they go on to the audit log and to export jobs): it is passed as its keyed hash
        ``person_hash``, and with a hash ``q`` is only the masked number shown in the box."""
        def ok(field):
            return field.data if not field.errors else None

        overdue = {"1": True, "0": False}.get(self.overdue.data or "")
        status = self.status.data if self.status.data in {s.value for s in CaseStatus} else None
        q = (self.q.data or "").strip() or None
        person_hash = self.searched_hash()
        searched = None if person_hash else searched_number(q)
        if person_hash or searched:
            person_hash, q = person_hash or searched.hash, None
        return {"status": status, "category": self.category.data or None, "date_from": ok(self.date_from),
                "date_to": ok(self.date_to), "region_code": (self.region_code.data or "").strip() or None,
                "studio_id": self.studio_id.data, "overdue": overdue, "q": q, "person_hash": person_hash}


ACTION_FORMS = {
    "accept": AcceptForm, "decline": DeclineForm, "record_session": SessionForm, "conclude": ConcludeForm,
    "extend_time_limit": ExtendForm, "apply_for_confirmation": ApplyConfirmationForm,
    "record_confirmation_result": ConfirmationResultForm, "record_follow_up": FollowUpForm,
}
