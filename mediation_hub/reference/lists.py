"""The reference lists by their published names, and resolving a code or a Chinese name to the code.

Each list is ``[(code, name)]`` in its display order, taken from the package that owns it; the name is the
Chinese name (what people and the import use), so it is the same in every language and can be sent back."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache

# Names carry a legal reference in brackets on some lists ("刑事辩护 (第二十四、二十五条)"); a client may send the
# name without it, with full-width brackets or with spaces left out.
_BRACKETED = re.compile(r"\s*[（(][^（()）]*[)）]\s*$")


def _case_categories() -> list[tuple[str, str]]:
    from ..cases.reference import CATEGORIES

    return list(CATEGORIES)


def _case_sources() -> list[tuple[str, str]]:
    from ..cases.reference import SOURCES

    return list(SOURCES)


def _legal_aid_matters() -> list[tuple[str, str]]:
    from ..legal_aid.reference import MATTER_CATEGORIES

    return list(MATTER_CATEGORIES.items())


def _decline_reasons() -> list[tuple[str, str]]:
    from ..transfers.models import DECLINE_REASON_LABELS

    return [(reason.value, label) for reason, label in DECLINE_REASON_LABELS.items()]


# 民族: the 56 nationalities with their GB/T 3304 codes, in the standard's order, then its two further entries.
# A party's or an applicant's 民族 is stored as the Chinese name (what a document prints); the code is accepted too.
ETHNICITIES: tuple[tuple[str, str], ...] = (
    *(
        (f"{number:02d}", name)
        for number, name in enumerate(
            (
                "汉族",
                "蒙古族",
                "回族",
                "藏族",
                "维吾尔族",
                "苗族",
                "彝族",
                "壮族",
                "布依族",
                "朝鲜族",
                "满族",
                "侗族",
                "瑶族",
                "白族",
                "土家族",
                "哈尼族",
                "哈萨克族",
                "傣族",
                "黎族",
                "傈僳族",
                "佤族",
                "畲族",
                "高山族",
                "拉祜族",
                "水族",
                "东乡族",
                "纳西族",
                "景颇族",
                "柯尔克孜族",
                "土族",
                "达斡尔族",
                "仫佬族",
                "羌族",
                "布朗族",
                "撒拉族",
                "毛南族",
                "仡佬族",
                "锡伯族",
                "阿昌族",
                "普米族",
                "塔吉克族",
                "怒族",
                "乌孜别克族",
                "俄罗斯族",
                "鄂温克族",
                "德昂族",
                "保安族",
                "裕固族",
                "京族",
                "塔塔尔族",
                "独龙族",
                "鄂伦春族",
                "赫哲族",
                "门巴族",
                "珞巴族",
                "基诺族",
            ),
            start=1,
        )
    ),
    ("97", "其他"),
    ("98", "外国血统中国籍人士"),
)


def _ethnicities() -> list[tuple[str, str]]:
    return list(ETHNICITIES)


LISTS: dict[str, Callable[[], list[tuple[str, str]]]] = {
    "case-categories": _case_categories,
    "case-sources": _case_sources,
    "legal-aid-matters": _legal_aid_matters,
    "decline-reasons": _decline_reasons,
    "ethnicities": _ethnicities,
}


def items(list_name: str) -> list[tuple[str, str]]:
    return LISTS[list_name]()


def codes(list_name: str) -> list[str]:
    return [code for code, _name in items(list_name)]


def _key(text: str) -> str:
    return re.sub(r"\s+", "", text).replace("（", "(").replace("）", ")")


@cache
def _index(list_name: str) -> dict[str, str]:
    """Every accepted spelling → code: the code, the name, the name without its bracketed reference."""
    index: dict[str, str] = {}
    for code, name in items(list_name):
        index[code] = code
        index[_key(name)] = code
        short = _BRACKETED.sub("", name)
        if short and short != name:
            index.setdefault(_key(short), code)
    return index


def resolve(list_name: str, value: str | None) -> str | None:
    """The code ``value`` names (a code or a Chinese name), or None when it names nothing on the list."""
    if value is None:
        return None
    return _index(list_name).get(_key(value)) or _index(list_name).get(value.strip())


def name_of(list_name: str, value: str | None) -> str | None:
    """The Chinese name of the item ``value`` names (its code or its name), or None when it names nothing."""
    code = resolve(list_name, value)
    return dict(items(list_name)).get(code) if code is not None else None
