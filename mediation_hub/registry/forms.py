"""Registry page forms (Flask-WTF). They check the shape; the service checks the business rules."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ..core.dates import DateField
from .models import OrgKind

KIND_LABELS = {
    OrgKind.people_mediation_committee: _l("人民调解委员会"),
    OrgKind.professional_mediation_org: _l("行业性专业性人民调解组织"),
    OrgKind.administrative_mediation: _l("行政调解"),
    OrgKind.court_mediation: _l("司法(诉调对接)调解"),
    OrgKind.commercial_mediation: _l("商事调解"),
    OrgKind.legal_aid_centre: _l("法律援助中心"),
    OrgKind.governance_centre: _l("综治中心"),
    OrgKind.justice_bureau: _l("司法局"),
}
_SPECIALTY_SPLIT = re.compile(r"[,，、;；\s]+")


def optional_int(value) -> int | None:
    """Coerce a select value; the empty choice means 'none'."""
    if value in (None, "", "None"):
        return None
    return int(value)


def split_specialties(text: str | None) -> list[str]:
    """'邻里，婚姻家庭、物业' -> ['邻里', '婚姻家庭', '物业'] (order kept, duplicates dropped)."""
    items = [s for s in _SPECIALTY_SPLIT.split(text or "") if s]
    return list(dict.fromkeys(items))


def choice_field(label, *, required: bool) -> SelectField:
    """A select whose value the service judges (so its message names the rule, not 'not a valid choice')."""
    return SelectField(
        label, coerce=optional_int, validate_choice=False, validators=[DataRequired() if required else Optional()]
    )


def _check_specialties(_form, field) -> None:
    items = split_specialties(field.data)
    if len(items) > 20:
        raise ValidationError(_l("最多20项"))
    if any(len(s) > 40 for s in items):
        raise ValidationError(_l("每项最多40个字"))


class RegistryForm(FlaskForm):
    """Service errors ({field: [messages]}) are shown beside the fields they name."""

    def attach_errors(self, errors: dict[str, list[str]]) -> dict[str, list[str]]:
        """Put each message on its field; returns the messages no field of this form carries."""
        unplaced: dict[str, list[str]] = {}
        for name, messages in errors.items():
            field = self._fields.get(name)
            if field is None:
                unplaced[name] = list(messages)
                continue
            field.errors = [*field.errors, *messages] if isinstance(field.errors, list) else list(messages)
        return unplaced


class OrganizationForm(RegistryForm):
    name = StringField(_l("名称"), validators=[DataRequired(), Length(min=2, max=120)])
    kind = SelectField(
        _l("类别"), choices=[(k.value, label) for k, label in KIND_LABELS.items()], validators=[DataRequired()]
    )
    region_code = StringField(_l("行政区划代码"), validators=[DataRequired(), Length(min=2, max=12)])
    uscc = StringField(_l("统一社会信用代码"), validators=[Optional(), Length(max=30)])
    parent_id = choice_field(_l("上级组织"), required=False)
    specialties = StringField(_l("专业领域"), validators=[_check_specialties], description=_l("用逗号或顿号分隔"))
    address = StringField(_l("地址"), validators=[Optional(), Length(max=200)])
    document_code = StringField(
        _l("文书代字"),
        validators=[Optional(), Length(max=12)],
        description=_l("文书编号中的简称，如（2026）保竞调字第 12 号中的“保竞”；不填则取名称前两字"),
    )

    def to_data(self) -> dict:
        return {
            "name": (self.name.data or "").strip(),
            "kind": OrgKind(self.kind.data),
            "region_code": (self.region_code.data or "").strip(),
            "uscc": (self.uscc.data or "").strip() or None,
            "parent_id": self.parent_id.data,
            "specialties": split_specialties(self.specialties.data),
            "address": (self.address.data or "").strip() or None,
            "document_code": (self.document_code.data or "").strip() or None,
        }


class MediatorForm(RegistryForm):
    name = StringField(_l("姓名"), validators=[DataRequired(), Length(min=1, max=60)])
    organization_id = choice_field(_l("所属组织"), required=True)
    id_number = StringField(_l("身份证号码"), validators=[Optional(), Length(max=30)])
    phone = StringField(_l("手机号码"), validators=[Optional(), Length(max=30)])
    specialties = StringField(_l("专业领域"), validators=[_check_specialties], description=_l("用逗号或顿号分隔"))

    def to_data(self, *, editing: bool = False) -> dict:
        """On an edit, an empty ID number or phone field keeps the stored value."""
        data = {
            "name": (self.name.data or "").strip(),
            "organization_id": self.organization_id.data,
            "specialties": split_specialties(self.specialties.data),
        }
        for key in ("id_number", "phone"):
            value = (getattr(self, key).data or "").strip()
            if value or not editing:
                data[key] = value or None
        return data


class StudioForm(RegistryForm):
    name = StringField(_l("工作室名称"), validators=[DataRequired(), Length(min=2, max=120)])
    organization_id = choice_field(_l("所在组织"), required=True)
    lead_mediator_id = choice_field(_l("领衔调解员"), required=True)
    named_by_id = choice_field(_l("命名单位(司法局)"), required=False)
    named_on = DateField(_l("命名日期"), validators=[Optional()])
    specialties = StringField(_l("专业领域"), validators=[_check_specialties], description=_l("用逗号或顿号分隔"))

    def to_data(self) -> dict:
        return {
            "name": (self.name.data or "").strip(),
            "organization_id": self.organization_id.data,
            "lead_mediator_id": self.lead_mediator_id.data,
            "named_by_id": self.named_by_id.data,
            "named_on": self.named_on.data,
            "specialties": split_specialties(self.specialties.data),
        }
