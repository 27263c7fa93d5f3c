"""A delivery's stored error (``integrations.governance_reports``' fixed Chinese messages) in the reader's language.

The outbox stores the fixed Chinese text (never the receiver's answer, docs/SECURITY.md); a page shows it through
``shown_delivery_error``, which recognises each fixed message with its values and translates it. A text it does not
know is shown as stored."""

from __future__ import annotations

import re

from flask_babel import gettext as _

from ..core.i18n import N_

# the reasons ``integrations.outbound`` refuses a destination, in its Chinese words
REFUSAL_REASONS = {
    "malformed": N_("不是有效的网址"),
    "scheme": N_("只允许 https 地址"),
    "credentials": N_("地址中不能包含用户名或密码"),
    "unresolvable": N_("无法解析主机名"),
    "private": N_("不允许本机、内网、链路本地、组播或保留地址"),
}
_FIXED = {N_("连接失败"), N_("安全连接证书校验失败")}
_REFUSED = re.compile(r"目标地址不允许：(?P<reason>.+)")
_REDIRECT = re.compile(r"HTTP (?P<status>\d{3})：重定向不予跟随")
_REJECTED = re.compile(r"HTTP (?P<status>\d{3})：接收方未接受")
_TIMEOUT = re.compile(r"超时：(?P<seconds>[\d.]+) 秒内无应答")


def shown_delivery_error(stored: str | None) -> str:
    """The stored delivery error in the current locale ('' for none)."""
    if not stored:
        return ""
    if stored in _FIXED:
        return _(stored)
    if match := _REFUSED.fullmatch(stored):
        reason = match["reason"]
        return _("目标地址不允许：%(reason)s", reason=_(reason) if reason in REFUSAL_REASONS.values() else reason)
    if match := _REDIRECT.fullmatch(stored):
        return _("HTTP %(status)s：重定向不予跟随", status=match["status"])
    if match := _REJECTED.fullmatch(stored):
        return _("HTTP %(status)s：接收方未接受", status=match["status"])
    if match := _TIMEOUT.fullmatch(stored):
        return _("超时：%(seconds)s 秒内无应答", seconds=match["seconds"])
    return stored
