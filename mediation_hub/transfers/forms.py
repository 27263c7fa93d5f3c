"""Transfer page forms (Flask-WTF, CSRF on every one). Shapes only; the service checks the rules."""

from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from .models import DECLINE_REASON_LABELS, MODE_LABELS, TransferMode


class RequestTransferForm(FlaskForm):
    """One per route on the case page; the clicked button carries the mode."""

    case_id = IntegerField(validators=[DataRequired()])
    to_organization_id = IntegerField(validators=[DataRequired()])
    agreement_code = StringField(validators=[DataRequired(), Length(max=40)])
    mode = SelectField(choices=[(m.value, MODE_LABELS[m]) for m in TransferMode], validators=[DataRequired()])
    note = TextAreaField("说明", validators=[Optional(), Length(max=2000)])


class AcceptTransferForm(FlaskForm):
    answered_on = DateField("接收日期", validators=[Optional()], description="默认今天")


class DeclineTransferForm(FlaskForm):
    reason_code = SelectField("退回理由", choices=[("", "请选择")] + [(c.value, label) for c, label in
                                                                   DECLINE_REASON_LABELS.items()],
                              validators=[DataRequired(message="请选择退回理由")])
    reason_text = TextAreaField("具体说明", validators=[Optional(), Length(max=2000)],
                                description="选择“其他”时必填")


class WithdrawTransferForm(FlaskForm):
    confirm = HiddenField(default="1")
