"""What each figure of the officials' dashboard (and of its xlsx) counts: DESIGN.md "Rates" in words for an
official, with the numerator and the denominator of every rate.

The texts are marked with ``N_`` where they are defined and translated where they are shown
(``definition(name)`` and ``column_title(name)`` at request time), so the page, the xlsx and the csv say the same
thing in the reader's language."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext

from ..core.i18n import N_


@dataclass(frozen=True)
class Definition:
    """A figure's name, and for a rate its formula, numerator and denominator; ``note`` says what else to know."""

    label: str
    formula: str | None = None
    numerator: str | None = None
    denominator: str | None = None
    note: str | None = None

    def translated(self) -> Definition:
        parts = (self.formula, self.numerator, self.denominator, self.note)
        return Definition(gettext(self.label), *(gettext(text) if text else None for text in parts))


NULL_RATE_NOTE = N_("分母为 0 时显示“—”，不是 0%。")
BASIS_NOTE = N_(
    "统计口径：按承办组织——每件事计入事情发生当时承办该案件的组织及其所在地区；统计截止日之后发生的事不计入。"
)

DEFINITIONS = {
    "success_rate": Definition(
        N_("调解成功率"),
        N_("达成协议数 ÷ 办结数"),
        N_("分子：本期办结、结果为达成调解协议的案件数。"),
        N_("分母：本期办结的案件数（达成协议、未达成协议、撤回、转其他途径四种结果都算），不论案件何时登记。"),
    ),
    "completion_rate": Definition(
        N_("调处办结率"),
        N_("已办结或不予受理数 ÷ 登记数"),
        N_("分子：本期登记的案件中，到统计截止日已办结或不予受理的案件数；转到其他组织后办结的也算。"),
        N_("分母：本期登记的案件数。"),
        N_("看的是本期登记的这批案件办完了多少，按登记案件的组织统计；所以一个组织的办结数可能多于它的登记数。"),
    ),
    "on_time_rate": Definition(
        N_("按期办结率"),
        N_("按期办结数 ÷ 办结数"),
        N_("分子：本期办结的案件中，在办理期限内办结的案件数。"),
        N_("分母：本期办结的案件数。"),
        N_("办理期限以办结时有效的期限为准：受理后一般一个月，经当事人同意延长的按延长后的期限计算。"),
    ),
    "received": Definition(N_("登记数"), note=N_("本期内登记的案件数，含之后不予受理的和仍在办理的。")),
    "concluded": Definition(
        N_("办结数"), note=N_("本期内办结的案件数（达成协议、未达成协议、撤回、转其他途径），不论案件何时登记。")
    ),
    "completed": Definition(
        N_("已办结或不予受理数"),
        note=N_("本期登记的案件中，到统计截止日已办结或不予受理的案件数（调处办结率的分子）。"),
    ),
    "acceptance_rate": Definition(
        N_("接收率"),
        N_("接收数 ÷（接收数 + 退回数 + 超期数）"),
        N_("分子：本期发出的转办中被对方接收的件数。"),
        N_("分母：本期发出的转办中已有结果的件数，即接收、退回和超期未答复的；待答复的和已撤回的不计入。"),
    ),
    "median_working_days": Definition(
        N_("答复用时中位数"),
        note=N_("本期发出并已答复（接收或退回）的转办，从发出到答复所用工作日数的中位数；没有已答复的转办时显示“—”。"),
    ),
    "in_time_rate": Definition(
        N_("按期决定率"),
        N_("7日内决定数 ÷ 作出决定数"),
        N_("分子：本期作出决定的法律援助申请中，在审查决定期限（收到申请后 7 日）内作出决定的件数。"),
        N_("分母：本期作出决定的法律援助申请数。"),
    ),
    "grant_rate": Definition(
        N_("给予率"),
        N_("给予援助数 ÷ 作出决定数"),
        N_("分子：本期决定给予法律援助的申请数。"),
        N_("分母：本期作出决定的法律援助申请数。"),
    ),
}
RATE_NAMES = ("success_rate", "completion_rate", "on_time_rate", "acceptance_rate", "in_time_rate", "grant_rate")


def definition(name: str) -> Definition:
    """The definition of figure ``name`` in the request's language."""
    return DEFINITIONS[name].translated()


def definitions() -> dict[str, Definition]:
    """Every definition in the request's language (for the page and the xlsx's 指标说明 sheet)."""
    return {name: definition(name) for name in DEFINITIONS}


def is_rate(name: str) -> bool:
    return name in RATE_NAMES


def null_rate_note() -> str:
    return gettext(NULL_RATE_NOTE)


def basis_note() -> str:
    return gettext(BASIS_NOTE)
