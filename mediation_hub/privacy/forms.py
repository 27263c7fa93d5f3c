"""Forms of the personal-data request page (Flask-WTF, CSRF on each)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, StringField
from wtforms.validators import DataRequired, Length


class PersonLookupForm(FlaskForm):
    id_number = StringField(_l("身份证号码"), validators=[DataRequired(message=_l("请填写身份证号码")), Length(max=30)])


class PersonForm(FlaskForm):
    """A step after the look-up. ``person`` is the ID number sealed with the hub's key (never the number
    itself in the page) and valid for a limited time."""

    person = HiddenField(validators=[DataRequired()])


class PersonEraseForm(PersonForm):
    stage = HiddenField(default="confirm")
    confirm = BooleanField(
        _l("我已核实申请人的身份和请求，确认删除以上全部个人信息（不可恢复）"),
        validators=[DataRequired(message=_l("请勾选确认"))],
    )
