"""The form of the towns-and-villages page: the csv to load. Shape only; the places service checks the rows."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired


class PlacesUploadForm(FlaskForm):
    file = FileField(
        _l("乡镇、村的 csv 文件"),
        validators=[FileRequired(_l("请选择要导入的文件")), FileAllowed(["csv"], _l("只支持 csv 文件"))],
        description=_l("UTF-8 编码；第一行为表头：代码,名称,上级代码"),
    )
