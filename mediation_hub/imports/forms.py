"""The upload form (Flask-WTF, CSRF-protected). It checks the shape; the import service checks the rest."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length

from .service import DEFAULT_SOURCE_SYSTEM, SOURCE_SYSTEM_MAX


class UploadForm(FlaskForm):
    organization_id = SelectField(_l("承办组织"), coerce=int, validators=[DataRequired(_l("请选择承办组织"))])
    source_system = StringField(
        _l("来源系统"),
        default=DEFAULT_SOURCE_SYSTEM,
        validators=[DataRequired(_l("请填写来源系统")), Length(max=SOURCE_SYSTEM_MAX)],
        description=_l("同一来源系统内，原系统案号相同的行在再次导入时跳过"),
    )
    file = FileField(
        _l("文件（csv 或 xlsx）"),
        validators=[
            FileRequired(_l("请选择要导入的文件")),
            FileAllowed(["csv", "xlsx"], _l("只支持 csv 和 xlsx 文件")),
        ],
    )
