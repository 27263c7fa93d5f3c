"""Page forms for legal aid (shape only; the service judges every rule)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..core.dates import DateField
from ..core.shanghai import today_shanghai
from ..reference.lists import ETHNICITIES
from .reference import EXEMPT_GROUPS, GENDER_LABELS, HARDSHIP_LABELS, MATTER_CATEGORIES


def _choices(labels: dict[str, str]) -> list[tuple]:
    """Select choices from a reference list, each label translated where the form is shown."""
    return [(code, _l(label)) for code, label in labels.items()]


class FileApplicationForm(FlaskForm):
    centre_id = SelectField(_l("受理申请的法律援助中心"), coerce=int, validators=[Optional()], validate_choice=False)
    applicant_name = StringField(_l("申请人姓名"), validators=[DataRequired(), Length(max=60)])
    id_number = StringField(_l("身份证号码"), validators=[DataRequired(), Length(max=30)])
    phone = StringField(_l("联系电话"), validators=[Optional(), Length(max=30)])
    applicant_region_code = StringField(_l("申请人住所地"), validators=[Optional(), Length(max=12)])
    # optional particulars the 申请表 prints (never invented on the paper when left blank)
    applicant_gender = SelectField(
        _l("性别"), choices=[("", _l("不填")), *_choices(GENDER_LABELS)], validate_choice=False
    )
    applicant_ethnicity = SelectField(
        _l("民族"), validate_choice=False, choices=[("", _l("不填"))] + [(name, name) for _code, name in ETHNICITIES]
    )
    applicant_address = StringField(_l("住址"), validators=[Optional(), Length(max=200)])
    applicant_occupation = StringField(_l("工作单位或职业"), validators=[Optional(), Length(max=60)])
    matter_category = SelectField(_l("援助事项"), choices=_choices(MATTER_CATEGORIES), validate_choice=False)
    matter_region_code = StringField(
        _l("事项发生地 / 办案机关所在地"),
        validators=[DataRequired(), Length(max=12)],
        description=_l("决定由哪个法律援助机构管辖 (法律援助法第三十八条)"),
    )
    hardship = RadioField(
        _l("经济困难状况"), choices=_choices(HARDSHIP_LABELS), default="declaration", validate_choice=False
    )
    exempt_group = SelectField(
        _l("免予核查的人群"),
        choices=[("", "—"), *_choices(EXEMPT_GROUPS)],
        validate_choice=False,
        description=_l("仅在“免予核查经济困难状况”时选择"),
    )
    summary = TextAreaField(_l("案情摘要"), validators=[DataRequired(), Length(max=4000)])
    received_on = DateField(_l("收到申请日期"), validators=[Optional()], default=today_shanghai)


class TransferForm(FlaskForm):
    to_centre_id = SelectField(_l("转交给"), coerce=int, validate_choice=False)
    transferred_on = DateField(_l("转交日期"), validators=[Optional()], default=today_shanghai)


class AcceptForm(FlaskForm):
    received_on = DateField(
        _l("本中心收到申请日期"),
        validators=[Optional()],
        description=_l("默认为登记或转入之日；七日审查期限从此日起算"),
    )
    accepted_on = DateField(_l("受理日期"), validators=[Optional()], default=today_shanghai)


class DecideForm(FlaskForm):
    decision = RadioField(
        _l("决定"), choices=[("grant", _l("给予法律援助")), ("refuse", _l("不予法律援助"))], validators=[DataRequired()]
    )
    reason = TextAreaField(
        _l("理由"), validators=[Optional(), Length(max=4000)], description=_l("不予法律援助须书面说明理由")
    )
    decided_on = DateField(_l("决定日期"), validators=[Optional()], default=today_shanghai)


class AssignForm(FlaskForm):
    lawyer_name = StringField(_l("指派律师"), validators=[DataRequired(), Length(max=60)])
    assigned_on = DateField(_l("指派日期"), validators=[Optional()], default=today_shanghai)


class CloseForm(FlaskForm):
    closed_on = DateField(_l("结案日期"), validators=[Optional()], default=today_shanghai)
    note = TextAreaField(_l("结案说明"), validators=[Optional(), Length(max=2000)])


class SupplementRequestForm(FlaskForm):
    items = TextAreaField(
        _l("需要补充的材料或需要说明的事项"),
        validators=[DataRequired(), Length(max=4000)],
        description=_l("每行一项；法律援助机构应当一次性告知（法律援助法第四十三条第二款）"),
    )
    requested_on = DateField(_l("告知日期"), validators=[Optional()], default=today_shanghai)
    due_on = DateField(
        _l("请于此日前补充"),
        validators=[Optional()],
        description=_l("可不填；补充材料、作出说明所需的时间不计入审查期限"),
    )


class SupplementReceivedForm(FlaskForm):
    received_on = DateField(
        _l("收到补充材料日期"),
        validators=[Optional()],
        default=today_shanghai,
        description=_l("审查决定期限顺延自告知之日至收到之日的天数"),
    )
