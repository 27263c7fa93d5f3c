"""Page forms for legal aid (shape only; the service judges every rule)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from .reference import EXEMPT_GROUPS, HARDSHIP_LABELS, MATTER_CATEGORIES


class FileApplicationForm(FlaskForm):
    centre_id = SelectField("受理申请的法律援助中心", coerce=int, validators=[Optional()], validate_choice=False)
    applicant_name = StringField("申请人姓名", validators=[DataRequired(), Length(max=60)])
    id_number = StringField("身份证号码", validators=[DataRequired(), Length(max=30)])
    phone = StringField("联系电话", validators=[Optional(), Length(max=30)])
    applicant_region_code = StringField("申请人住所地", validators=[Optional(), Length(max=12)])
    matter_category = SelectField("援助事项", choices=list(MATTER_CATEGORIES.items()), validate_choice=False)
    matter_region_code = StringField("事项发生地 / 办案机关所在地", validators=[DataRequired(), Length(max=12)],
                                     description="决定由哪个法律援助机构管辖 (法律援助法第三十八条)")
    hardship = RadioField("经济困难状况", choices=list(HARDSHIP_LABELS.items()), default="declaration",
                          validate_choice=False)
    exempt_group = SelectField("免予核查的人群", choices=[("", "—")] + list(EXEMPT_GROUPS.items()),
                               validate_choice=False, description="仅在“免予核查经济困难状况”时选择")
    summary = TextAreaField("案情摘要", validators=[DataRequired(), Length(max=4000)])
    received_on = DateField("收到申请日期", validators=[Optional()], description="默认今天")


class TransferForm(FlaskForm):
    to_centre_id = SelectField("转交给", coerce=int, validate_choice=False)
    transferred_on = DateField("转交日期", validators=[Optional()], description="默认今天")


class AcceptForm(FlaskForm):
    received_on = DateField("本中心收到申请日期", validators=[Optional()],
                            description="默认为登记或转入之日；七日审查期限从此日起算")
    accepted_on = DateField("受理日期", validators=[Optional()], description="默认今天")


class DecideForm(FlaskForm):
    decision = RadioField("决定", choices=[("grant", "给予法律援助"), ("refuse", "不予法律援助")],
                          validators=[DataRequired()])
    reason = TextAreaField("理由", validators=[Optional(), Length(max=4000)], description="不予法律援助须书面说明理由")
    decided_on = DateField("决定日期", validators=[Optional()], description="默认今天")


class AssignForm(FlaskForm):
    lawyer_name = StringField("指派律师", validators=[DataRequired(), Length(max=60)])
    assigned_on = DateField("指派日期", validators=[Optional()], description="默认今天")


class CloseForm(FlaskForm):
    closed_on = DateField("结案日期", validators=[Optional()], description="默认今天")
    note = TextAreaField("结案说明", validators=[Optional(), Length(max=2000)])
