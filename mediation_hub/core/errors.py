"""The domain errors: a refusal a person can act on, raised by any layer (``core`` included) and answered over HTTP
by ``mediation_hub.errors`` (convention 7). The rest of the code imports them from there."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .i18n import N_
from .messages import Coded, code_of, coded


class DomainError(Exception):
    """A refusal a person can act on. ``message`` is in the request's language; when it is a ``Coded`` its code is
    the error's machine code (``error`` in the JSON body), else the class's ``code``."""

    status = 400
    title = "Bad Request"
    code = "bad_request"

    def __init__(self, message: str, errors: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors

    @property
    def error_code(self) -> str:
        return code_of(self.message, self.code)


class ValidationFailed(DomainError):
    """Input broke one or more business rules; ``errors`` maps each field to its messages."""

    status = 422
    title = "Unprocessable Entity"
    code = "validation_failed"
    errors: dict[str, list[str]]  # never None here: each field's messages

    def __init__(self, errors: Mapping[str, Sequence[str] | str], message: str | None = None):
        normalised = {k: v if isinstance(v, list) else [v] for k, v in errors.items()}
        super().__init__(message or coded("validation_failed", "输入有误，请改正标出的项目"), normalised)


class StateConflict(DomainError):
    """The record is not in a state that allows the action (or was changed meanwhile)."""

    status = 409
    title = "Conflict"
    code = "state_conflict"


class NotFound(DomainError):
    """The record does not exist, or the actor may not know that it exists."""

    status = 404
    title = "Not Found"
    code = "not_found"

    def __init__(self, what: str = "record"):
        """``what`` is a noun of ``NOT_FOUND`` (``NotFound("case")``: 未找到该案件, code ``case_not_found``), or a
        message of its own (a ``Coded`` keeps its code)."""
        self.what = what
        super().__init__(not_found_message(what))


class PermissionDenied(DomainError):
    """The actor may see the record but not do this to it."""

    status = 403
    title = "Forbidden"
    code = "permission_denied"


class Unavailable(DomainError):
    status = 503
    title = "Service Unavailable"
    code = "service_unavailable"


# What NotFound(noun) says: the noun's code and text (translated when raised).
NOT_FOUND = {
    "record": ("not_found", N_("未找到该记录")),
    "case": ("case_not_found", N_("未找到该案件")),
    "party": ("party_not_found", N_("未找到该当事人")),
    "session": ("session_not_found", N_("未找到该调解记录")),
    "follow-up": ("follow_up_not_found", N_("未找到该回访记录")),
    "document": ("document_not_found", N_("未找到该文书")),
    "region": ("region_not_found", N_("未找到该行政区划")),
    "organization": ("organization_not_found", N_("未找到该组织")),
    "studio": ("studio_not_found", N_("未找到该调解工作室")),
    "mediator": ("mediator_not_found", N_("未找到该调解员")),
    "transfer": ("transfer_not_found", N_("未找到该转办")),
    "application": ("application_not_found", N_("未找到该申请")),
    "legal-aid application": ("legal_aid_application_not_found", N_("未找到该法律援助申请")),
    "user": ("user_not_found", N_("未找到该账户")),
    "token": ("token_not_found", N_("未找到该访问令牌")),
    "agreement": ("agreement_not_found", N_("未找到该协议")),
    "proposal": ("proposal_not_found", N_("未找到该协议提议")),
    "agreement proposal": ("agreement_proposal_not_found", N_("未找到该协议提议")),
    "subscription": ("subscription_not_found", N_("未找到该报送订阅")),
    "report subscription": ("subscription_not_found", N_("未找到该报送订阅")),
    "report delivery": ("report_delivery_not_found", N_("未找到该报送记录")),
    "report snapshot": ("report_snapshot_not_found", N_("未找到该报表快照")),
    "report": ("report_not_found", N_("未找到该报表")),
    "export": ("export_not_found", N_("未找到该导出")),
    "export file": ("export_file_not_found", N_("未找到该导出文件")),
    "import": ("import_not_found", N_("未找到该导入")),
    "import job": ("import_not_found", N_("未找到该导入任务")),
    "error report": ("error_report_not_found", N_("未找到该错误报告")),
    "notification": ("notification_not_found", N_("未找到该通知")),
    "personal data for this ID number": ("personal_data_not_found", N_("未找到与该身份证号码相关的个人信息")),
    "calendar year": ("calendar_year_not_found", N_("未找到该年度的工作日历")),
}


def not_found_message(what: object) -> Coded:
    """The message of ``NotFound(what)``: a noun of ``NOT_FOUND``, a ``Coded`` as it is, or another message."""
    if isinstance(what, Coded):
        return what
    entry = NOT_FOUND.get(str(what))
    if entry is not None:
        return coded(*entry)
    if str(what).isascii():  # a noun nobody put in the table yet: a Chinese message all the same
        return coded(str(what).replace("-", "_").replace(" ", "_") + "_not_found", NOT_FOUND["record"][1])
    return Coded("not_found", str(what))


def collect(errors: dict[str, list[str]], field: str, message: str) -> None:
    """Add a message for a field to an error dict being gathered before raising once."""
    errors.setdefault(field, []).append(message)


def raise_if(errors: dict[str, list[str]]) -> None:
    if errors:
        raise ValidationFailed(errors)
