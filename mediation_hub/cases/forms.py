"""Page forms for cases. They only read the input into Python values; the service decides what is valid."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FieldList,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Length, Optional, ValidationError

from ..core.dates import DateField
from ..core.forms import TranslatedForm
from ..core.shanghai import today_shanghai
from ..reference.lists import ETHNICITIES
from .models import CaseStatus, PartyKind
from .rules import (
    AGREEMENT_FORM_LABELS,
    FOLLOW_UP_METHOD_LABELS,
    GENDER_LABELS,
    OUTCOME_LABELS,
    PARTY_KIND_LABELS,
    PARTY_ROLE_LABELS,
    STATUS_LABELS,
    SUMMARY_MAX_LENGTH,
)
from .service.scope import PERSON_HASH, searched_number

YES_NO_UNKNOWN = [("", _l("未知")), ("true", _l("是")), ("false", _l("否"))]


def counted_text() -> dict:
    """A text limited to SUMMARY_MAX_LENGTH (the API's limit) with its counter under it
    (static/js/char-counter.js, loaded by the page): "已输入 120 / 5000 字"."""
    return {
        "data-max-length": SUMMARY_MAX_LENGTH,
        "data-counter": _l("已输入 {count} / {max} 字"),
        "data-counter-over": _l("已输入 {count} / {max} 字，超出 {over} 字"),
    }


def at_most_summary_length(form, field) -> None:
    """At most SUMMARY_MAX_LENGTH characters, counted as the counter counts them (a line break is one, whether
    the browser sends CRLF or LF)."""
    count = len((field.data or "").replace("\r\n", "\n"))
    if count > SUMMARY_MAX_LENGTH:
        raise ValidationError(_("最多 %(max)s 字，现有 %(count)s 字", max=SUMMARY_MAX_LENGTH, count=count))


def labelled_choices(labels: dict, blank=None) -> list[tuple]:
    """A select's choices from an enum's labels, after an empty choice labelled ``blank`` when given."""
    return ([("", blank)] if blank is not None else []) + [(value.value, label) for value, label in labels.items()]


def optional_int(value):
    if value in (None, "", "None"):
        return None
    return int(value)


def optional_bool(value):
    """'true'/'false' from a select; anything else (the empty choice) is None."""
    if value in (True, False):
        return value
    return {"true": True, "false": False}.get(value)


class PartyForm(TranslatedForm):
    """One party fieldset (no CSRF of its own: it lives inside the registration form)."""

    role = SelectField(_l("角色"), choices=[(r.value, label) for r, label in PARTY_ROLE_LABELS.items()])
    kind = SelectField(_l("类型"), choices=[(k.value, label) for k, label in PARTY_KIND_LABELS.items()])
    name = StringField(_l("姓名或名称"), validators=[Optional(), Length(max=120)])
    number = StringField(_l("身份证号码 / 统一社会信用代码"), validators=[Optional(), Length(max=30)])
    phone = StringField(_l("联系电话"), validators=[Optional(), Length(max=30)])
    region_code = StringField(_l("所在地区"), validators=[Optional(), Length(max=12)])
    # The particulars the documents print (optional, shown folded): 性别, 民族, 职业 for a person, 法定代表人 for
    # an organisation, the address for both. cases.js shows only the ones of the chosen kind.
    gender = SelectField(_l("性别"), choices=labelled_choices(GENDER_LABELS, blank=_l("不填")), validate_choice=False)
    ethnicity = SelectField(
        _l("民族"), validate_choice=False, choices=[("", _l("不填"))] + [(name, name) for _code, name in ETHNICITIES]
    )
    occupation = StringField(_l("职业或工作单位"), validators=[Optional(), Length(max=60)])
    address = StringField(_l("住址或住所地"), validators=[Optional(), Length(max=200)])
    representative = StringField(_l("法定代表人或主要负责人"), validators=[Optional(), Length(max=60)])

    PARTICULARS = ("gender", "ethnicity", "occupation", "address", "representative")

    def is_blank(self) -> bool:
        typed = (self.name, self.number, self.phone, self.region_code, *(self[key] for key in self.PARTICULARS))
        return not any((f.data or "").strip() for f in typed)

    def to_data(self) -> dict:
        number_key = "id_number" if self.kind.data == PartyKind.person.value else "uscc"
        return {
            "role": self.role.data,
            "kind": self.kind.data,
            "name": (self.name.data or "").strip(),
            number_key: (self.number.data or "").strip() or None,
            "phone": (self.phone.data or "").strip() or None,
            "region_code": (self.region_code.data or "").strip() or None,
            **{key: (self[key].data or "").strip() or None for key in self.PARTICULARS},
        }


class RegisterCaseForm(FlaskForm):
    organization_id = SelectField(_l("承办组织"), coerce=optional_int, validate_choice=False)
    category = SelectField(_l("纠纷类别"))
    source = SelectField(_l("案件来源"))
    # no length validator: the service counts against SUMMARY_MAX_LENGTH and says so in Chinese with a code;
    # data-max-length drives the counter (static/js/char-counter.js)
    summary = TextAreaField(_l("纠纷简要情况"), validators=[Optional()], render_kw=counted_text())
    received_on = DateField(_l("登记日期"), validators=[Optional()], default=today_shanghai)
    occurred_region_code = StringField(_l("纠纷发生地"), validators=[Optional(), Length(max=12)])
    # text, read by the one money rule (rules.to_amount): "3，500。00", "３５００", "￥3500" are amounts too
    amount_yuan = StringField(
        _l("涉及金额 (元)"), validators=[Optional()], render_kw={"inputmode": "decimal", "autocomplete": "off"}
    )
    confirm_duplicate = BooleanField(_l("仍然登记"))
    major = BooleanField(_l("重大矛盾纠纷"))
    studio_id = SelectField(_l("调解工作室"), coerce=optional_int)
    mediator_ids = SelectMultipleField(_l("承办调解员"), coerce=int)
    parties = FieldList(FormField(PartyForm), min_entries=2)

    def to_data(self) -> tuple[dict, list[int]]:
        """The service's input, and for each party in it the index of its fieldset on the page."""
        parties, positions = [], []
        for index, entry in enumerate(self.parties.entries):
            if entry.form.is_blank() and len(self.parties.entries) > 2:
                continue  # an extra fieldset added and left empty
            parties.append(entry.form.to_data())
            positions.append(index)
        summary = (self.summary.data or "").replace("\r\n", "\n")  # a browser sends CRLF; count a line break once
        data = {
            "category": self.category.data,
            "source": self.source.data,
            "summary": summary,
            "received_on": self.received_on.data,
            "occurred_region_code": (self.occurred_region_code.data or "").strip() or None,
            "amount_yuan": (self.amount_yuan.data or "").strip() or None,
            "major": bool(self.major.data),
            "studio_id": self.studio_id.data,
            "mediator_ids": list(self.mediator_ids.data or []),
            "parties": parties,
        }
        if self.organization_id.data is not None:
            data["organization_id"] = self.organization_id.data
        return data, positions


# --- the transitions: one small form each ---------------------------------------------------------------


class ActionForm(FlaskForm):
    version = HiddenField()

    def version_value(self) -> int | None:
        try:
            return int(self.version.data or "")  # an empty or missing field reads as no version
        except (TypeError, ValueError):
            return None


class AcceptForm(ActionForm):
    mediator_id = SelectField(_l("承办调解员"), coerce=optional_int, validate_choice=False)
    accepted_on = DateField(_l("受理日期"), validators=[Optional()], default=today_shanghai)


class DeclineForm(ActionForm):
    reason = TextAreaField(_l("不予受理理由"), validators=[Optional(), Length(max=2000)])
    declined_on = DateField(_l("不予受理日期"), validators=[Optional()], default=today_shanghai)


class SessionForm(ActionForm):
    held_on = DateField(_l("调解日期"), validators=[Optional()], default=today_shanghai)
    mediator_id = SelectField(_l("主持调解员"), coerce=optional_int, validate_choice=False)
    summary = TextAreaField(_l("调解情况"), validators=[Optional(), at_most_summary_length], render_kw=counted_text())
    place = StringField(_l("调解地点"), validators=[Optional(), Length(max=200)])
    attendees = TextAreaField(
        _l("参加人员"), validators=[Optional(), Length(max=2000)], description=_l("每行一人，如：申请人 张三")
    )
    recorder = StringField(_l("记录人"), validators=[Optional(), Length(max=60)])

    # shown folded under "更多调解记录信息（制作文书用）"
    DOCUMENT_FACTS = ("place", "attendees", "recorder")


class ConcludeForm(ActionForm):
    outcome = SelectField(_l("办结结果"), choices=[(o.value, label) for o, label in OUTCOME_LABELS.items()])
    concluded_on = DateField(_l("办结日期"), validators=[Optional()], default=today_shanghai)
    agreement_amount_yuan = StringField(
        _l("协议金额 (元)"),
        validators=[Optional()],
        description=_l("没有金钱给付的协议可不填"),
        render_kw={"inputmode": "decimal", "data-unit": _l("元"), "data-confirm-label": _l("协议金额")},
    )
    # required with an agreement (the service says so, code terms_required); cases.js marks it on the page
    terms = TextAreaField(
        _l("协议内容"),
        validators=[Optional(), at_most_summary_length],
        render_kw=counted_text(),
        description=_l("达成协议时必填"),
    )
    performed = SelectField(_l("是否已履行"), choices=YES_NO_UNKNOWN, coerce=optional_bool)
    agreement_form = SelectField(
        _l("协议形式"),
        choices=labelled_choices(AGREEMENT_FORM_LABELS),
        validate_choice=False,
        description=_l("口头协议由调解员填写口头协议登记表"),
    )


class ExtendForm(ActionForm):
    days = IntegerField(_l("延长天数"), validators=[Optional()])
    consent_note = TextAreaField(_l("当事人同意情况"), validators=[Optional(), Length(max=2000)])


class ApplyConfirmationForm(ActionForm):
    applied_on = DateField(_l("申请日期"), validators=[Optional()], default=today_shanghai)
    court = StringField(_l("受理法院"), validators=[Optional(), Length(max=120)])


class ConfirmationResultForm(ActionForm):
    confirmed = SelectField(
        _l("司法确认结果"), choices=[("true", _l("确认有效")), ("false", _l("驳回申请"))], coerce=optional_bool
    )
    decided_on = DateField(_l("裁定日期"), validators=[Optional()], default=today_shanghai)


class FollowUpForm(ActionForm):
    visited_on = DateField(_l("回访日期"), validators=[Optional()], default=today_shanghai)
    summary = TextAreaField(_l("回访情况"), validators=[Optional(), at_most_summary_length], render_kw=counted_text())
    performed = SelectField(_l("协议履行情况"), choices=YES_NO_UNKNOWN, coerce=optional_bool)
    method = SelectField(
        _l("回访方式"), choices=labelled_choices(FOLLOW_UP_METHOD_LABELS, blank=_l("不填")), validate_choice=False
    )
    # prefilled with the signed-in person's name (cases/views.py _action_forms)
    visitor = StringField(_l("回访人"), validators=[Optional(), Length(max=60)])


class RevealForm(FlaskForm):
    """Only the CSRF token: revealing is a POST so it cannot be triggered by a link."""


class CaseFilterForm(TranslatedForm):
    """The case list's filters, read from the query string (no CSRF: a GET that changes nothing). The form on
    the page is posted, and answered with a redirect to the list's query string (``views.search_case_list``):
    a full ID number or phone typed into ``q`` travels as its keyed hash ``pid``, ``q`` then shows it masked."""

    status = SelectField(
        _l("状态"),
        choices=[("", _l("全部"))] + [(s.value, label) for s, label in STATUS_LABELS.items()],
        validate_choice=False,
    )
    category = SelectField(_l("类别"), validate_choice=False)
    date_from = DateField(_l("登记日期自"), validators=[Optional()])
    date_to = DateField(_l("至"), validators=[Optional()])
    region_code = StringField(_l("地区"), validators=[Optional(), Length(max=12)])
    studio_id = SelectField(_l("工作室"), coerce=optional_int, validate_choice=False)
    overdue = SelectField(
        _l("超期"), choices=[("", _l("全部")), ("1", _l("已超期")), ("0", _l("未超期"))], validate_choice=False
    )
    q = StringField(_l("关键词"), validators=[Optional(), Length(max=60)])
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
        if person_hash:
            q = None
        elif searched:
            person_hash, q = searched.hash, None
        return {
            "status": status,
            "category": self.category.data or None,
            "date_from": ok(self.date_from),
            "date_to": ok(self.date_to),
            "region_code": (self.region_code.data or "").strip() or None,
            "studio_id": self.studio_id.data,
            "overdue": overdue,
            "q": q,
            "person_hash": person_hash,
        }


ACTION_FORMS = {
    "accept": AcceptForm,
    "decline": DeclineForm,
    "record_session": SessionForm,
    "conclude": ConcludeForm,
    "extend_time_limit": ExtendForm,
    "apply_for_confirmation": ApplyConfirmationForm,
    "record_confirmation_result": ConfirmationResultForm,
    "record_follow_up": FollowUpForm,
}
