"""Fixed lists from the Legal Aid Law 2021 (法律援助法): matter categories and the groups without a means test.

Codes are stable identifiers stored on applications; labels are what people read."""

from __future__ import annotations

from ..core.i18n import N_

# The matters legal aid covers: criminal defence and representation (arts. 24-28) and the civil and
# administrative matters of art. 31.
MATTER_CATEGORIES: dict[str, str] = {
    "criminal_defence": N_("刑事辩护 (第二十四、二十五条)"),
    "criminal_victim": N_("刑事被害人、自诉人代理 (第二十九条)"),
    "state_compensation": N_("依法请求国家赔偿 (第三十一条第一项)"),
    "social_insurance_assistance": N_("请求给予社会保险待遇或者社会救助 (第三十一条第二项)"),
    "pension_compensation": N_("请求发给抚恤金 (第三十一条第三项)"),
    "maintenance": N_("请求给付赡养费、抚养费、扶养费 (第三十一条第四项)"),
    "labour_remuneration": N_("请求确认劳动关系或者支付劳动报酬 (第三十一条第五项)"),
    "legal_capacity": N_("请求认定无民事行为能力或者限制民事行为能力 (第三十一条第六项)"),
    "personal_injury": N_("请求获得人身损害赔偿 (第三十一条第七项)"),
    "environmental_damage": N_("请求环境污染、生态破坏损害赔偿 (第三十一条第八项)"),
    "other_statutory": N_("法律、法规、规章规定的其他情形 (第三十一条第九项)"),
}

# Applicants who need not show economic hardship (hardship = "exempt"). Art. 42 lists the people whose
# hardship is not checked; art. 32 the matters where no hardship condition applies at all. Both skip the
# means test, so both are offered, each labelled with its article.
EXEMPT_GROUPS: dict[str, str] = {
    "minor_elderly_disabled_no_income": N_("无固定生活来源的未成年人、老年人、残疾人等特定群体 (第四十二条第一项)"),
    "assistance_recipient": N_("社会救助、司法救助或者优抚对象 (第四十二条第二项)"),
    "migrant_worker_wages_injury": N_("申请支付劳动报酬或者请求工伤事故人身损害赔偿的进城务工人员 (第四十二条第三项)"),
    "other_statutory_person": N_("法律、法规、规章规定的其他人员 (第四十二条第四项)"),
    "hero_martyr_relative": N_("英雄烈士近亲属为维护英雄烈士的人格权益 (第三十二条第一项)"),
    "good_samaritan": N_("因见义勇为行为主张相关民事权益 (第三十二条第二项)"),
    "acquitted_state_compensation": N_("再审改判无罪请求国家赔偿 (第三十二条第三项)"),
    "abuse_violence_victim": N_("遭受虐待、遗弃或者家庭暴力的受害人主张相关权利 (第三十二条第四项)"),
}

HARDSHIP_LABELS = {
    "declaration": N_("经济困难告知承诺 (第四十一条)"),
    "proof": N_("经济困难证明材料 (第四十一条)"),
    "exempt": N_("免予核查经济困难状况 (第三十二条、第四十二条)"),
}

STATUS_LABELS = {
    "filed": N_("已申请"),
    "transferred": N_("已转交"),
    "accepted": N_("已受理"),
    "granted": N_("准予援助"),
    "refused": N_("不予援助"),
    "assigned": N_("已指派"),
    "closed": N_("已结案"),
}

# The applicant's gender as the 申请表 prints it.
GENDER_LABELS = {"male": N_("男"), "female": N_("女")}

# Art. 43: decide within 7 days of receipt; assign within 3 days of granting.
DECIDE_WITHIN_DAYS = 7
ASSIGN_WITHIN_DAYS = 3
