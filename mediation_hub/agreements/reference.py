"""The agreements DESIGN.md names: 京津冀 mediation and legal-aid 通办, and the Guangdong pairings."""

from datetime import date
from typing import Any

from ..extensions import db
from .models import Agreement, AgreementKind, AgreementMember, AgreementScope

JJJ = ["110000", "120000", "130000"]

AGREEMENTS: list[dict[str, Any]] = [
    dict(
        code="JJJ-MEDIATION",
        name="京津冀调解工作协同发展合作协议",
        kind=AgreementKind.joint_mediation,
        scope=AgreementScope.mediation,
        members=JJJ,
        signed_on=date(2023, 6, 15),
        note="京津冀三地司法厅(局)在雄安新区签订（资料 004）：跨地区重大矛盾纠纷联防联调机制",
    ),
    dict(
        code="JJJ-LEGAL-AID",
        name="京津冀法律援助通办",
        kind=AgreementKind.tongban,
        scope=AgreementScope.legal_aid,
        members=JJJ,
        signed_on=date(2023, 6, 15),
        note="法律援助通办机制: 就近申请，由有管辖权的法律援助机构决定（资料 004）",
    ),
    dict(
        code="GD-PAIR-GZ",
        name="广州市与梅州、湛江、清远结对提升",
        kind=AgreementKind.pairing,
        scope=AgreementScope.both,
        members=["440100", "441400", "440800", "441800"],
        signed_on=date(2023, 8, 1),
        note="广东依法治市结对提升机制（资料 000）；签订日期取报道月份的首日",
    ),
    dict(
        code="GD-PAIR-SZ-ST",
        name="深圳市与汕头市结对提升",
        kind=AgreementKind.pairing,
        scope=AgreementScope.both,
        members=["440300", "440500"],
        signed_on=date(2023, 8, 9),
        note="深圳市委依法治市办调研组赴汕头座谈（资料 000）",
    ),
    dict(
        code="GD-PAIR-FS",
        name="佛山市与肇庆、云浮结对提升",
        kind=AgreementKind.pairing,
        scope=AgreementScope.both,
        members=["440600", "441200", "445300"],
        signed_on=date(2023, 8, 1),
        note="广东依法治市结对提升机制（资料 000）；签订日期取报道月份的首日",
    ),
]


def load_agreements() -> int:
    """Create the reference agreements that are missing (an edited agreement is left as edited)."""
    created = 0
    for spec in AGREEMENTS:
        if db.session.get(Agreement, spec["code"]) is not None:
            continue
        spec = dict(spec)
        members = spec.pop("members")
        agreement = Agreement(**spec, effective_from=spec["signed_on"], response_working_days=3, active=True)
        agreement.members = [AgreementMember(region_code=code) for code in members]
        db.session.add(agreement)
        created += 1
    db.session.flush()
    return created
