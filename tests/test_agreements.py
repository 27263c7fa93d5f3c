"""Agreements: which agreements cover a set of regions, and keeping agreements through the API."""

from __future__ import annotations

from datetime import date

import pytest

from mediation_hub.agreements.models import Agreement, AgreementKind, AgreementMember, AgreementScope
from mediation_hub.agreements.service import agreements_covering
from mediation_hub.extensions import db

ON = date(2025, 3, 3)


def _codes(agreements):
    return [a.code for a in agreements]


# --- coverage ------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("regions", "scope", "expected"), [
    (["130600", "110000"], "mediation", ["JJJ-MEDIATION"]),          # 保定 + 北京
    (["130602", "110105"], "mediation", ["JJJ-MEDIATION"]),          # 竞秀区 + 朝阳区: subtrees of members
    (["130600", "120000"], "legal_aid", ["JJJ-LEGAL-AID"]),          # 保定 + 天津, legal aid
    (["440100", "441400"], "mediation", ["GD-PAIR-GZ"]),             # 广州 + 梅州, pairing (scope both)
    (["440100", "441400"], "legal_aid", ["GD-PAIR-GZ"]),
    (["110000", "310000"], "mediation", []),                         # 北京 + 上海: no agreement
    (["440100", "440300"], "mediation", []),                         # 广州 + 深圳: different pairings
    (["130629", "130632", "130638", "110105"], "mediation", ["JJJ-MEDIATION"]),  # 雄安 counties lie in 130000
    (["XIONGAN", "120116"], "mediation", ["JJJ-MEDIATION"]),         # the custom region counts by its members
    (["110000", "NOPE"], "mediation", []),                           # unknown region: covered by nothing
    ([], "mediation", []),
])
def test_agreements_covering(regions, scope, expected):
    assert _codes(agreements_covering(regions, scope, ON)) == expected


def _agreement(code, *, active=True, effective_from=date(2025, 1, 1), effective_to=None, members=("110000", "310000")):
    agreement = Agreement(code=code, name=code, kind=AgreementKind.pairing, scope=AgreementScope.mediation,
                          response_working_days=3, signed_on=date(2024, 12, 1), effective_from=effective_from,
                          effective_to=effective_to, active=active)
    agreement.members = [AgreementMember(region_code=c) for c in members]
    db.session.add(agreement)
    db.session.flush()
    return agreement


@pytest.mark.parametrize(("kwargs", "covered"), [
    ({}, True),
    ({"active": False}, False),                                       # inactive
    ({"effective_from": date(2025, 3, 4)}, False),                    # not yet in force on 3 March
    ({"effective_from": date(2025, 3, 3)}, True),                     # in force from its first day
    ({"effective_to": date(2025, 3, 2)}, False),                      # expired the day before
    ({"effective_to": date(2025, 3, 3)}, True),                       # last day still counts
])
def test_inactive_or_out_of_force_agreements_are_excluded(kwargs, covered):
    _agreement("BJ-SH-TEST", **kwargs)
    assert _codes(agreements_covering(["110105", "310101"], "mediation", ON)) == (["BJ-SH-TEST"] if covered else [])


def test_scope_must_match():
    _agreement("BJ-SH-TEST")
    assert agreements_covering(["110000", "310000"], AgreementScope.legal_aid, ON) == []
