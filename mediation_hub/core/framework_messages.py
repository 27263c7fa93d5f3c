"""The frameworks' own English messages, said in the request's language with a machine code each.

marshmallow and webargs answer a malformed request with English texts ("Missing data for required field.",
"Not a valid integer.", "Must be one of: …"); werkzeug's HTTP errors carry an English description. The error
handlers (``errors.py``) pass every message through :func:`translate_field_messages` and every HTTP error
through :func:`http_message`, so a client reads Chinese (or English with ``Accept-Language: en``) and branches on
the code (``required``, ``invalid_type``, ``not_one_of`` …), never on the text.
"""

from __future__ import annotations

import re
from typing import Any, TypeAlias

from .i18n import N_
from .messages import Coded, coded

# A tree of messages: one message, or a dict/list of them nested by location, field or list index.
MessageTree: TypeAlias = "str | dict[Any, MessageTree] | list[MessageTree]"

CJK = re.compile(r"[\u3400-\u9fff]")

# (pattern of marshmallow's / webargs' default message, code, text with the pattern's named groups)
_FIELD_MESSAGES = (
    (r"Missing data for required field\.", "required", N_("此项为必填项")),
    (r"Field may not be null\.", "null", N_("此项不能为空")),
    (r"Unknown field\.", "unknown_field", N_("不接受此字段")),
    (r"Invalid (input )?type\.", "invalid_type", N_("数据类型不正确")),
    (r"Not a valid (list|tuple)\.", "invalid_type", N_("须为列表")),
    (r"Not a valid mapping type\.", "invalid_type", N_("须为对象")),
    (r"Not a valid (utf-8 )?string\.", "invalid_type", N_("须为文字")),
    (r"Not a valid integer\.", "invalid_type", N_("须为整数")),
    (r"Not a valid number\.", "invalid_type", N_("须为数字")),
    (r"Not a valid boolean\.", "invalid_type", N_("须为是或否")),
    (r"Not a valid UUID\.", "invalid_type", N_("不是有效的标识")),
    (r"Special numeric values \(nan or infinity\) are not permitted\.", "invalid_type", N_("须为有限的数值")),
    (r"Number too large\.", "too_large", N_("数值过大")),
    (
        r"Not a valid date\.|\"(?P<input>.*)\" cannot be formatted as a date\.",
        "invalid_date",
        N_("不是有效的日期（应如 2026-12-07）"),
    ),
    (
        r"Not a valid (aware |naive )?(datetime|time)\.|\".*\" cannot be formatted as a (datetime|time)\.",
        "invalid_datetime",
        N_("不是有效的日期时间"),
    ),
    (r"Not a valid period of time\.|.* cannot be formatted as a timedelta\.", "invalid_type", N_("不是有效的时长")),
    (r"Not a valid URL\.", "invalid_url", N_("不是有效的网址")),
    (r"Not a valid email address\.", "invalid_email", N_("不是有效的电子邮件地址")),
    (r"Not a valid IP(v4|v6)? (address|interface)\.", "invalid_ip", N_("不是有效的网络地址")),
    (r"Must be one of: (?P<choices>.*)\.", "not_one_of", N_("须为以下之一：%(choices)s")),
    (r"Length must be between (?P<min>\d+) and (?P<max>\d+)\.", "length", N_("长度须在 %(min)s 至 %(max)s 之间")),
    (r"Length must be (?P<equal>\d+)\.", "length", N_("长度须为 %(equal)s")),
    (r"Longer than maximum length (?P<max>\d+)\.", "too_long", N_("长度不能超过 %(max)s")),
    (r"Shorter than minimum length (?P<min>\d+)\.", "too_short", N_("长度不能少于 %(min)s")),
    (
        r"Must be greater than or equal to (?P<min>\S+) and less than or equal to (?P<max>\S+)\.",
        "out_of_range",
        N_("须在 %(min)s 至 %(max)s 之间"),
    ),
    (
        r"Must be greater than (?P<min>\S+) and less than (?P<max>\S+)\.",
        "out_of_range",
        N_("须大于 %(min)s 且小于 %(max)s"),
    ),
    (
        r"Must be greater than or equal to (?P<min>\S+) and less than (?P<max>\S+)\.",
        "out_of_range",
        N_("须大于等于 %(min)s 且小于 %(max)s"),
    ),
    (
        r"Must be greater than (?P<min>\S+) and less than or equal to (?P<max>\S+)\.",
        "out_of_range",
        N_("须大于 %(min)s 且小于等于 %(max)s"),
    ),
    (r"Must be greater than or equal to (?P<min>\S+)\.", "out_of_range", N_("须大于等于 %(min)s")),
    (r"Must be greater than (?P<min>\S+)\.", "out_of_range", N_("须大于 %(min)s")),
    (r"Must be less than or equal to (?P<max>\S+)\.", "out_of_range", N_("须小于等于 %(max)s")),
    (r"Must be less than (?P<max>\S+)\.", "out_of_range", N_("须小于 %(max)s")),
    (r"Must be equal to (?P<other>.*)\.", "not_equal", N_("须为 %(other)s")),
    (r"String does not match expected pattern\.", "pattern", N_("格式不正确")),
    (r"Invalid input\.|Invalid value\.", "invalid", N_("值无效")),
    (r"Invalid JSON body\.", "invalid_json", N_("请求内容不是有效的 JSON")),
)
FIELD_MESSAGES: tuple[tuple[re.Pattern[str], str, str], ...] = tuple(
    (re.compile(pattern), code, text) for pattern, code, text in _FIELD_MESSAGES
)


def translate_field_message(message: object) -> str:
    """One message: a ``Coded`` stays; a framework default becomes a ``Coded`` in the request's language; any
    other text stays as it is (its code is then ``invalid``)."""
    if isinstance(message, Coded):
        return message
    if not isinstance(message, str):  # a lazy string
        message = str(message)
    for pattern, code, text in FIELD_MESSAGES:
        match = pattern.fullmatch(message)
        if match:
            params = {k: v for k, v in match.groupdict().items() if v is not None}
            return coded(code, text, **params)
    return message


def translate_field_messages(tree: object) -> MessageTree:
    """A tree of messages (``{location: {field: [message]}}``, nested by field or list index), translated."""
    if isinstance(tree, dict):
        return {key: translate_field_messages(value) for key, value in tree.items()}
    if isinstance(tree, list | tuple):
        return [translate_field_messages(value) for value in tree]
    return translate_field_message(tree)


# status -> (code, text): the message of an HTTP error raised without one of the hub's own
HTTP_MESSAGES: dict[int, tuple[str, str]] = {
    400: ("bad_request", N_("请求无效")),
    401: ("unauthorized", N_("请先登录")),
    403: ("forbidden", N_("无权进行此操作")),
    404: ("not_found", N_("找不到该页面或记录")),
    405: ("method_not_allowed", N_("该地址不支持这种请求方式")),
    406: ("not_acceptable", N_("无法以所要求的格式答复")),
    409: ("state_conflict", N_("状态冲突")),
    410: ("gone", N_("该记录已不存在")),
    413: ("payload_too_large", N_("提交的内容过大")),
    415: ("unsupported_media_type", N_("不支持该内容类型")),
    422: ("validation_failed", N_("输入有误，请改正标出的项目")),
    429: ("rate_limited", N_("请求过于频繁，请稍后再试")),
    500: ("internal_error", N_("内部错误，请稍后再试")),
    501: ("not_implemented", N_("不支持该操作")),
    503: ("service_unavailable", N_("服务暂时不可用，请稍后再试")),
}
CSRF_FAILED = ("csrf_failed", N_("页面已过期或来源无法确认，请刷新页面后重新提交"))


def http_code(status: int) -> str:
    """The machine code of an HTTP status (``http_<status>`` for one without an entry)."""
    return HTTP_MESSAGES.get(status, (f"http_{status}", ""))[0]


def http_message(status: int, description: object = None) -> Coded:
    """The message of an HTTP error: the hub's own description (Chinese, or a ``Coded``) kept, a framework's
    English one replaced by the status's text."""
    if isinstance(description, Coded):
        return description
    if isinstance(description, str) and CJK.search(description):
        return Coded(http_code(status), description)
    code, text = HTTP_MESSAGES.get(status, (f"http_{status}", N_("出错了")))
    return coded(code, text)
