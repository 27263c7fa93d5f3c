"""What each figure of the officials' dashboard (and of its xlsx) counts: DESIGN.md "Rates" in words for an
official, with the numerator and the denominator of every rate.

The texts are marked with ``N_`` where they are defined and translated where they are shown
(``definition(name)`` and ``column_title(name)`` at request time), so the page, the xlsx and the csv say the same
thing in the reader's language."""

from __future__ import annotations

from collections.abc import Mapping
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
# The two counting bases (DESIGN.md "Rates"): the switch's words, the line saying which one a report shows, and
# what it means for an official
BASIS_NAMES = {"occurred": N_("属地"), "handled": N_("承办")}
BASIS_TITLES = {"occurred": N_("属地口径：按纠纷发生地统计"), "handled": N_("承办口径：按承办组织统计")}
BASIS_NOTES = {
    "handled": N_(
        "每件事计入事情发生当时承办该案件的组织及其所在地区：案件转到别的组织后，之后的受理、办结计入接收的组织。"
        "统计截止日之后发生的事不计入。"
    ),
    "occurred": N_(
        "每件事计入纠纷发生地（记录到乡镇、村的计入该乡镇、村及其上级地区），不论由哪个组织承办、是否转办过。"
        "统计截止日之后发生的事不计入。"
    ),
}
FLOW_IDENTITY = N_(
    "期初在办 %(open_at_start)s + 登记 %(registered)s + 转入 %(transferred_in)s − 转出 %(transferred_out)s"
    " = 办结 %(concluded)s + 不予受理 %(declined)s + 期末在办 %(open_at_end)s"
)
FLOW_NOTE = N_(
    "期初还在办的案件，加上本期登记的和转入的，减去转出的，到期末要么已办结，要么不予受理，要么仍在办理：等式两边相等，"
    "各项数字就对得上。"
)

DEFINITIONS = {
    "success_rate": Definition(
        N_("调解成功率"),
        N_("达成协议数 ÷ 办结数"),
        N_("分子：本期办结的案件中，双方达成调解协议的件数。"),
        N_("分母：本期办结的全部案件数。办结包括达成协议、未达成协议、当事人撤回、转其他途径处理四种情况。"),
        N_("看的是本期办完的案件中有多少调成了，不论这些案件是哪一期登记的。"),
    ),
    "completion_rate": Definition(
        N_("调处办结率"),
        N_("已办结或不予受理数 ÷ 登记数"),
        N_("分子：本期登记的案件中，到统计截止日已经办结或决定不予受理的件数；转到其他组织后办结的也算。"),
        N_("分母：本期登记的案件数。"),
        N_(
            "看的是本期收进来的这批案件处理完了多少。承办口径按登记案件的组织统计，属地口径按纠纷发生地统计；"
            "所以一个组织的办结数可以多于它的登记数：它还办结了以前登记的或从别处转来的案件。"
        ),
    ),
    "on_time_rate": Definition(
        N_("按期办结率"),
        N_("按期办结数 ÷ 办结数"),
        N_("分子：本期办结的案件中，在办理期限内办结的件数。"),
        N_("分母：本期办结的案件数。"),
        N_("办理期限以办结时有效的期限为准：受理后一般一个月，经当事人同意延长的，按延长后的期限计算。"),
    ),
    "on_time_original_rate": Definition(
        N_("按原期限办结率"),
        N_("按原期限办结数 ÷ 办结数"),
        N_("分子：本期办结的案件中，在受理时定下的原办理期限内办结的件数，延长期限不算。"),
        N_("分母：本期办结的案件数。"),
        N_("与按期办结率对照看：两者相差越大，说明靠延长期限才按期办结的案件越多。"),
    ),
    "received": Definition(N_("登记数"), note=N_("本期内登记的案件数，含之后不予受理的和仍在办理的。")),
    "accepted": Definition(N_("受理数"), note=N_("本期内决定受理的案件数，不论案件何时登记。")),
    "declined": Definition(N_("不予受理数"), note=N_("本期内决定不予受理的案件数，不论案件何时登记。")),
    "concluded": Definition(
        N_("办结数"), note=N_("本期内办结的案件数（达成协议、未达成协议、撤回、转其他途径），不论案件何时登记。")
    ),
    "agreement": Definition(N_("达成协议数"), note=N_("本期办结的案件中，双方达成调解协议的件数。")),
    "no_agreement": Definition(
        N_("未达成协议数"), note=N_("本期办结的案件中，调解不成、已告知当事人可通过其他途径解决的件数。")
    ),
    "withdrawn": Definition(N_("撤回数"), note=N_("本期办结的案件中，当事人撤回申请的件数。")),
    "referred": Definition(N_("转其他途径数"), note=N_("本期办结的案件中，转诉讼、仲裁等其他途径处理的件数。")),
    "concluded_on_time": Definition(
        N_("按期办结数"), note=N_("本期办结的案件中，在办结时有效的办理期限内（含经同意延长的期限）办结的件数。")
    ),
    "concluded_on_time_original": Definition(
        N_("按原期限办结数"), note=N_("本期办结的案件中，在受理时定下的原办理期限内办结的件数。")
    ),
    "concluded_extended": Definition(
        N_("延期办结数"),
        note=N_("本期办结的案件中，经当事人同意延长过办理期限的件数，不论最后是否在延长后的期限内办结。"),
    ),
    "completed": Definition(
        N_("已办结或不予受理数"),
        note=N_("本期登记的案件中，到统计截止日已办结或不予受理的案件数（调处办结率的分子）。"),
    ),
    "open_at_start": Definition(
        N_("期初在办数"), note=N_("开始日期前一天结束时，已登记、尚未办结也未不予受理的案件数。")
    ),
    "transferred_in": Definition(
        N_("转入数"),
        note=N_(
            "本期从别处转来、由本范围内的组织接收的案件数；看地区时，本地区内组织之间的转办不计。"
            "属地口径下为 0：纠纷发生地不随转办改变。"
        ),
    ),
    "transferred_out": Definition(
        N_("转出数"),
        note=N_(
            "本期转到别处、已被对方接收的案件数；看地区时，本地区内组织之间的转办不计。"
            "属地口径下为 0：纠纷发生地不随转办改变。"
        ),
    ),
    "open_at_end": Definition(
        N_("期末在办数"),
        note=N_(
            "到期末（结束日期和统计截止日中较早的那一天），已登记、尚未办结也未不予受理的案件数（含尚未决定是否受理的）。"
        ),
    ),
    "overdue": Definition(
        N_("超期未结"),
        note=N_("到统计截止日，已受理、仍在办理、已过办理期限的案件数；按承办组织统计，不随统计口径切换。"),
    ),
    "transfers_total": Definition(
        N_("转办数"),
        note=N_("本期发出的跨区域转办请求件数，不论结果：已接收、退回、超期、撤回和待答复的都算。"),
    ),
    "transfers_accepted": Definition(N_("接收数"), note=N_("本期发出的转办中，已被对方接收的件数。")),
    "transfers_declined": Definition(N_("退回数"), note=N_("本期发出的转办中，被对方退回的件数。")),
    "transfers_expired": Definition(
        N_("超期数"), note=N_("本期发出的转办中，超过答复期限仍未答复、已由系统标记为超期的件数。")
    ),
    "transfers_pending": Definition(N_("待答复数"), note=N_("本期发出的转办中，目前仍在等待对方答复的件数。")),
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
    "applications": Definition(N_("申请数"), note=N_("本期收到的法律援助申请数。")),
    "decided": Definition(N_("作出决定数"), note=N_("本期作出给予或不予法律援助决定的申请数，不论申请何时收到。")),
    "decided_in_time": Definition(
        N_("7日内决定数"), note=N_("本期作出决定的申请中，在收到申请后 7 日内作出决定的件数。")
    ),
    "granted": Definition(N_("给予援助数"), note=N_("本期决定给予法律援助的申请数。")),
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
# the columns of the transfers and legal-aid tables that have a definition: column key -> DEFINITIONS name
SECTION_FIGURES = {
    "transfers": {
        "total": "transfers_total",
        "accepted": "transfers_accepted",
        "declined": "transfers_declined",
        "expired": "transfers_expired",
        "pending": "transfers_pending",
        "acceptance_rate": "acceptance_rate",
    },
    "legal_aid": {
        "applications": "applications",
        "decided": "decided",
        "decided_in_time": "decided_in_time",
        "in_time_rate": "in_time_rate",
        "granted": "granted",
        "grant_rate": "grant_rate",
    },
}
# the flows block (流转核对) in its order; each entry's title and definition is DEFINITIONS[name]
FLOW_FIGURES = {
    "open_at_start": "open_at_start",
    "registered": "received",
    "transferred_in": "transferred_in",
    "transferred_out": "transferred_out",
    "concluded": "concluded",
    "declined": "declined",
    "open_at_end": "open_at_end",
}
RATE_NAMES = (
    "success_rate",
    "completion_rate",
    "on_time_rate",
    "on_time_original_rate",
    "acceptance_rate",
    "in_time_rate",
    "grant_rate",
)


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


def figure_title(name: str) -> str:
    """Figure ``name``'s title in the request's language: the page's header, the xlsx's and the csv's."""
    return gettext(DEFINITIONS[name].label)


def basis_name(basis: str) -> str:
    """属地 or 承办: the basis in one word (the switch, the csv's 统计口径 column)."""
    return gettext(BASIS_NAMES[basis])


def basis_title(basis: str) -> str:
    """The line saying which basis a report shows (属地口径：按纠纷发生地统计 / 承办口径：按承办组织统计)."""
    return gettext(BASIS_TITLES[basis])


def basis_note(basis: str = "handled") -> str:
    """What the basis means for the figures, in words for an official."""
    return gettext(BASIS_NOTES[basis])


def flow_identity(flows: Mapping[str, int]) -> str:
    """期初在办 a + 登记 b + 转入 c − 转出 d = 办结 e + 不予受理 f + 期末在办 g, with the report's numbers."""
    return gettext(FLOW_IDENTITY, **{name: flows[name] for name in FLOW_FIGURES})


def flows_balance(flows: Mapping[str, int]) -> bool:
    """Whether the two sides of the flows identity are equal (they always should be; the page says if not)."""
    left = flows["open_at_start"] + flows["registered"] + flows["transferred_in"] - flows["transferred_out"]
    return left == flows["concluded"] + flows["declined"] + flows["open_at_end"]


def flow_note() -> str:
    return gettext(FLOW_NOTE)
