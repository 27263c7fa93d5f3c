"""Transfer page forms (Flask-WTF, CSRF on every one). Shapes only; the service checks the rules."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..core.dates import DateField
from ..core.shanghai import today_shanghai
from .models import DECLINE_REASON_LABELS, MODE_LABELS, TransferMode


class RequestTransferForm(FlaskForm):
    """One per route on the case page; the clicked button carries the mode."""

    case_id = IntegerField(validators=[DataRequired()])
    to_organization_id = IntegerField(validators=[DataRequired()])
    agreement_code = StringField(validators=[DataRequired(), Length(max=40)])
    mode = SelectField(choices=[(m.value, _l(MODE_LABELS[m])) for m in TransferMode], validators=[DataRequired()])
    note = TextAreaField(_l("说明"), validators=[Optional(), Length(max=2000)])


class AcceptTransferForm(FlaskForm):
    answered_on = DateField(_l("接收日期"), validators=[Optional()], default=today_shanghai)


class DeclineTransferForm(FlaskForm):
    reason_code = SelectField(
        _l("退回理由"),
        choices=[("", _l("请选择"))] + [(c.value, _l(label)) for c, label in DECLINE_REASON_LABELS.items()],
        validators=[DataRequired(message=_l("请选择退回理由"))],
    )
    reason_text = TextAreaField(
        _l("具体说明"), validators=[Optional(), Length(max=2000)], description=_l("选择“其他”时必填")
    )


class WithdrawTransferForm(FlaskForm):
    confirm = HiddenField(default="1")
