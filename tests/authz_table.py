"""THE authorization table: every API call and every page, and what each role gets on a record inside and a
record outside its scope. tests/test_authorization_matrix.py runs it and fails when the application has a call
or a page this table has no row for — a new endpoint needs a row here.

Who the roles are (the world of test_authorization_matrix.py): every signed-in user works on the Beijing side;
``in`` is a Beijing record, ``out`` the same kind of record on the Hebei side.

    admin              no organisation, no region: sees and does everything (but reveals no party's numbers
                       and reads only the notices addressed to itself)
    registry_admin     region 北京 110000; changes the registry of its region
    mediator           北京朝阳 people's mediation committee (handles its cases, answers its transfers)
    legal_aid_officer  北京朝阳 legal-aid centre (works on the applications its centre holds)
    coordinator        region 北京 110000, at the Beijing governance centre (reads, keeps agreements and
                       subscriptions, sees escalations; never moves a case)
    anonymous          no token / not signed in

An expectation is one answer for both records, or ``(in, out)``. ``LOGIN`` is a redirect to the sign-in
page. A write that an allowed actor may make sends a real, valid body (the cell is rolled back afterwards);
where the body is deliberately one the service must refuse, the row says so. A row whose answers an action of a
package's permission policy decides names it (``follows=policy(...)``, mediation_hub/core/policy.py): the matrix
checks that every such answer is the one the policy gives."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from mediation_hub.core.shanghai import today_shanghai

ROLES = ("admin", "registry_admin", "mediator", "legal_aid_officer", "coordinator", "anonymous")
LOGIN = "LOGIN"
API_PREFIX = "/api/v1"


class Values:
    """The world's ids and codes for one role and scope, as attributes (``v.org``, ``v.case_accepted``)."""

    def __init__(self, values: dict):
        self.__dict__.update(values)


@dataclass(frozen=True)
class Follows:
    """A cell of a package's permission policy that a row's answers follow: ``action`` ("package.action") on the
    world's record named ``record``, of ``kind`` (how the matrix loads it: case, transfer, application, proposal,
    organization, agreement for its members, codes for a list of region codes), or on no record."""

    action: str
    kind: str | None = None
    record: str | None = None


def policy(action: str, **record: str) -> Follows:
    """``policy("cases.handle", case="case_registered")``: the row follows that action on that record."""
    ((kind, name),) = record.items() if record else ((None, None),)
    return Follows(action, kind, name)


@dataclass(frozen=True)
class Row:
    method: str
    target: str  # the url_map rule for an API call, the endpoint name for a page
    path: str  # the URL, with {names} of the world's records
    answers: dict[str, object]
    body: Callable[[Values], dict] | None = None
    note: str = ""
    is_api: bool = field(default=False)
    # The policy cells the answers follow, checked in this order (the first refusal is the answer): see
    # test_authorization_matrix.test_the_table_follows_the_policies.
    follows: tuple[Follows, ...] = ()

    @property
    def rule(self) -> str | None:
        return self.target if self.is_api else None

    @property
    def endpoint(self) -> str | None:
        return None if self.is_api else self.target

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}" + (f" ({self.note})" if self.note else "")

    def expected(self, role: str, scope: str) -> object:
        answer = self.answers[role]
        if isinstance(answer, tuple):
            return answer[0] if scope == "in" else answer[1]
        return answer


def _row(
    method: str, target: str, path: str, body, answers: dict, *, is_api: bool, anonymous, note: str, follows
) -> Row:
    answers = dict(answers)
    answers.setdefault("anonymous", anonymous)
    missing = set(ROLES) - set(answers)
    if missing:
        raise ValueError(f"{method} {target}: no answer for {sorted(missing)}")
    follows = (follows,) if isinstance(follows, Follows) else tuple(follows)
    return Row(method, target, path, answers, body, note=note, is_api=is_api, follows=follows)


def api(method: str, rule: str, path: str | None = None, body=None, note: str = "", follows=(), **answers) -> Row:
    """An API row; an anonymous caller gets 401 unless the row says otherwise. ``follows``: the policy cells
    (``policy(...)``, one or a tuple) the answers follow."""
    return _row(method, rule, path or rule, body, answers, is_api=True, anonymous=401, note=note, follows=follows)


def page(method: str, endpoint: str, path: str, body=None, note: str = "", follows=(), **answers) -> Row:
    """A page row; an anonymous visitor is sent to the sign-in page unless the row says otherwise."""
    return _row(method, endpoint, path, body, answers, is_api=False, anonymous=LOGIN, note=note, follows=follows)


def everyone(answer, **others) -> dict:
    """The same answer for every signed-in role, except the ones named."""
    return {**{role: answer for role in ROLES if role != "anonymous"}, **others}


# --- bodies ---------------------------------------------------------------------------------------------


def _today() -> str:
    return today_shanghai().isoformat()


def _recent() -> str:
    return (today_shanghai() - timedelta(days=3)).isoformat()


def case_body(v: Values) -> dict:
    from tests.factories_cases import person

    return {
        "organization_id": v.org,
        "category": "neighbour",
        "source": "party_application",
        "summary": "邻里之间因漏水发生纠纷",
        "received_on": _recent(),
        "occurred_region_code": v.county,
        "parties": [person("applicant", region_code=v.county), person("respondent", region_code=v.county)],
    }


def application_body(v: Values) -> dict:
    from tests.factories_legal_aid import application_data

    data = application_data(v.centre, matter_region_code=v.county, received_on=date.fromisoformat(_recent()))
    data["received_on"] = data["received_on"].isoformat()
    return data


def agreement_body(v: Values) -> dict:
    return {
        "code": f"TEST-{v.county}",
        "name": "测试协作协议",
        "kind": "pairing",
        "scope": "mediation",
        "member_codes": v.agreement_members,
        "signed_on": "2026-01-05",
    }


def subscription_body(v: Values) -> dict:
    return {
        "organization_id": v.gc,
        "region_code": v.province,
        "frequency": "monthly",
        "endpoint_url": "https://new.governance.example/reports",
    }


def proposal_body(v: Values) -> dict:
    return {**agreement_body(v), "code": f"PROP-{v.county}"}


# --- the API ----------------------------------------------------------------------------------------------

CASE = "/api/v1/cases/<int:case_id>"
APP = "/api/v1/legal-aid/applications/<int:application_id>"
TRANSFER = "/api/v1/transfers/<int:transfer_id>"
PROPOSAL = "/api/v1/agreement-proposals/<int:proposal_id>"

# A case transition: admin anywhere; the mediator of the handling organisation; others who see the case 403.
MOVES_CASE = dict(
    admin=200, registry_admin=(403, 404), mediator=(200, 404), legal_aid_officer=404, coordinator=(403, 404)
)
READS_CASE = dict(
    admin=200, registry_admin=(200, 404), mediator=(200, 404), legal_aid_officer=404, coordinator=(200, 404)
)
# A case the side's committee handed over (transfer accepted in Tianjin): its mediator reads it, acts on nothing.
SENDER_READS = dict(admin=200, registry_admin=404, mediator=(200, 404), legal_aid_officer=404, coordinator=404)
SENDER_ACTS = {**SENDER_READS, "mediator": (403, 404)}
# (action, a valid body, the admin's answer: the handed-over case is accepted, so some steps are a 409)
SENDER_ACTIONS = [
    ("accept", lambda v: {}, 409),
    ("decline", lambda v: {"reason": "不属于人民调解受理范围"}, 409),
    ("sessions", lambda v: {"summary": "双方到场，陈述事实"}, 201),
    ("conclude", lambda v: {"outcome": "withdrawn"}, 200),
    ("extend", lambda v: {"days": 15, "consent_note": "双方同意延长"}, 200),
    ("confirmation", lambda v: {"court": "人民法院"}, 409),
    ("confirmation-result", lambda v: {"confirmed": True}, 409),
    ("follow-ups", lambda v: {"summary": "当事人已履行"}, 409),
]
# A legal-aid transition: admin anywhere; the officer of the centre holding it; a coordinator sees it (403).
MOVES_APPLICATION = dict(
    admin=200, registry_admin=404, mediator=404, legal_aid_officer=(200, 404), coordinator=(403, 404)
)
# The registry: admin anywhere, the registry administrator in its region; readers in scope get 403.
EDITS_REGISTRY = dict(
    admin=200, registry_admin=(200, 404), mediator=(403, 404), legal_aid_officer=404, coordinator=(403, 404)
)
CREATES_IN_REGISTRY = dict(admin=201, registry_admin=(201, 422), mediator=403, legal_aid_officer=403, coordinator=403)
# Answering a transfer: the receiving (or, to withdraw, the sending) organisation's users and admin.
ANSWERS_TRANSFER = dict(
    admin=200, registry_admin=(403, 404), mediator=(200, 404), legal_aid_officer=404, coordinator=(403, 404)
)

# Agreement proposals: an administrator anywhere; a coordinator for agreements touching the region.
PROPOSES = dict(admin=201, registry_admin=403, mediator=403, legal_aid_officer=403, coordinator=(201, 403))
SEES_PROPOSAL = dict(admin=200, registry_admin=404, mediator=404, legal_aid_officer=404, coordinator=(200, 404))

READS_IMPORT = dict(admin=200, registry_admin=(200, 404), mediator=(200, 404), legal_aid_officer=404, coordinator=404)


def import_upload(v: Values) -> dict:
    """A multipart upload: an import file with the layout's header and no rows."""
    from tests.authz_world import import_file

    return {"organization_id": str(v.org), "file": (import_file(), "历史案件.csv")}


def places_upload(v: Values) -> dict:
    """A multipart upload of a places csv: one new town under the side's county."""
    import io

    return {
        "file": (io.BytesIO(f"代码,名称,上级代码\n{v.county}998000,矩阵测试镇,{v.county}\n".encode()), "places.csv")
    }


API_ROWS = [
    api("GET", "/api/v1/openapi.json", **everyone(200), anonymous=200),
    api("GET", "/api/v1/docs", **everyone(200), anonymous=200),
    # A wrong password is refused the same way for everyone (the token call is public).
    api(
        "POST",
        "/api/v1/auth/token",
        body=lambda v: {"username": "nobody-here", "password": "wrong-password"},
        **everyone(401),
        anonymous=401,
    ),
    api("DELETE", "/api/v1/auth/token", **everyone(204)),
    # Everyone changes their own password (tests.factories.PASSWORD); the cell is rolled back afterwards.
    api(
        "POST",
        "/api/v1/auth/password",
        body=lambda v: {"current_password": "correct-horse-battery", "new_password": "a-new-matrix-password-1"},
        **everyone(204),
    ),
    # The audit log: administrators only, as the account pages.
    api("GET", "/api/v1/audit-log", follows=policy("audit.read_log"), **everyone(403, admin=200)),
    api("GET", "/api/v1/reference/<list_name>", "/api/v1/reference/case-categories", **everyone(200)),
    api("GET", "/api/v1/regions", **everyone(200)),
    api("GET", "/api/v1/regions/<code>", "/api/v1/regions/{county}", **everyone(200)),
    # Towns and villages from a csv: administrators only.
    api(
        "POST",
        "/api/v1/regions/places",
        body=places_upload,
        follows=policy("regions.maintain_places"),
        **everyone(403, admin=200),
    ),
    api("GET", "/api/v1/organizations", **everyone(200)),
    api(
        "POST",
        "/api/v1/organizations",
        follows=policy("registry.edit"),
        body=lambda v: {"name": "新登记的调解委员会", "kind": "people_mediation_committee", "region_code": v.county},
        **CREATES_IN_REGISTRY,
    ),
    api(
        "GET",
        "/api/v1/organizations/<int:organization_id>",
        "/api/v1/organizations/{org}",
        admin=200,
        registry_admin=(200, 404),
        mediator=(200, 404),
        legal_aid_officer=404,
        coordinator=(200, 404),
    ),
    api(
        "PATCH",
        "/api/v1/organizations/<int:organization_id>",
        "/api/v1/organizations/{org}",
        body=lambda v: {},
        follows=policy("registry.edit"),
        **EDITS_REGISTRY,
    ),
    api("GET", "/api/v1/mediators", **everyone(200)),
    api(
        "POST",
        "/api/v1/mediators",
        follows=policy("registry.edit"),
        body=lambda v: {"name": "新调解员", "organization_id": v.org},
        **CREATES_IN_REGISTRY,
    ),
    api(
        "GET",
        "/api/v1/mediators/<int:mediator_id>",
        "/api/v1/mediators/{mediator}",
        admin=200,
        registry_admin=(200, 404),
        mediator=(200, 404),
        legal_aid_officer=404,
        coordinator=(200, 404),
    ),
    api(
        "PATCH",
        "/api/v1/mediators/<int:mediator_id>",
        "/api/v1/mediators/{mediator}",
        body=lambda v: {},
        follows=policy("registry.edit"),
        **EDITS_REGISTRY,
    ),
    api(
        "POST",
        "/api/v1/mediators/<int:mediator_id>/reveal",
        "/api/v1/mediators/{mediator}/reveal",
        follows=policy("registry.edit"),
        **EDITS_REGISTRY,
    ),
    api("GET", "/api/v1/studios", **everyone(200)),
    api(
        "POST",
        "/api/v1/studios",
        follows=policy("registry.edit"),
        body=lambda v: {"name": f"新工作室{v.county}", "organization_id": v.org, "lead_mediator_id": v.spare_mediator},
        **CREATES_IN_REGISTRY,
    ),
    api(
        "GET",
        "/api/v1/studios/<int:studio_id>",
        "/api/v1/studios/{studio}",
        admin=200,
        registry_admin=(200, 404),
        mediator=(200, 404),
        legal_aid_officer=404,
        coordinator=(200, 404),
    ),
    api(
        "PATCH",
        "/api/v1/studios/<int:studio_id>",
        "/api/v1/studios/{studio}",
        follows=policy("registry.edit"),
        body=lambda v: {},
        **EDITS_REGISTRY,
    ),
    api("GET", "/api/v1/agreements", **everyone(200)),
    # An agreement binds every member: only an administrator creates or changes one directly; a coordinator
    # proposes (below), for agreements touching their region (the Hebei row's members are in Guangdong).
    api(
        "POST",
        "/api/v1/agreements",
        follows=(policy("agreements.keep", codes="agreement_members"), policy("agreements.change_directly")),
        body=agreement_body,
        **everyone(403, admin=201),
    ),
    api("GET", "/api/v1/agreements/<code>", "/api/v1/agreements/{agreement}", **everyone(200)),
    api(
        "PATCH",
        "/api/v1/agreements/<code>",
        "/api/v1/agreements/{agreement}",
        body=lambda v: {},
        follows=(policy("agreements.keep", agreement="agreement"), policy("agreements.change_directly")),
        **everyone(403, admin=200),
    ),
    # Agreement membership: proposing, confirming, declining, withdrawing, applying directly. ``proposal`` is a
    # change no member region has confirmed yet, ``own_proposal`` one the caller made (the system's for the
    # roles that cannot propose, and on the Hebei side); other roles never see a proposal (404).
    api("GET", "/api/v1/agreement-proposals", **everyone(200)),
    api(
        "POST",
        "/api/v1/agreement-proposals",
        follows=policy("agreements.keep", codes="agreement_members"),
        body=proposal_body,
        **PROPOSES,
    ),
    api(
        "POST",
        "/api/v1/agreements/<code>/proposals",
        "/api/v1/agreements/{matrix_agreement}/proposals",
        follows=policy("agreements.keep", agreement="matrix_agreement"),
        body=lambda v: {"response_working_days": 5},
        **PROPOSES,
    ),
    api("GET", PROPOSAL, "/api/v1/agreement-proposals/{proposal}", **SEES_PROPOSAL),
    # A confirmation speaks for a member region: its coordinators only (an administrator applies instead).
    api(
        "POST",
        f"{PROPOSAL}/confirm",
        "/api/v1/agreement-proposals/{proposal}/confirm",
        follows=policy("agreements.confirm", proposal="proposal"),
        **{**SEES_PROPOSAL, "admin": 403},
    ),
    api(
        "POST",
        f"{PROPOSAL}/decline",
        "/api/v1/agreement-proposals/{proposal}/decline",
        follows=policy("agreements.decline", proposal="proposal"),
        body=lambda v: {"reason": "本区域不同意调整答复时限"},
        **SEES_PROPOSAL,
    ),
    api(
        "POST",
        f"{PROPOSAL}/withdraw",
        "/api/v1/agreement-proposals/{own_proposal}/withdraw",
        follows=policy("agreements.withdraw", proposal="own_proposal"),
        **{**SEES_PROPOSAL, "admin": (200, 403)},
    ),
    api(
        "POST",
        f"{PROPOSAL}/apply",
        "/api/v1/agreement-proposals/{proposal}/apply",
        follows=policy("agreements.apply"),
        **{**SEES_PROPOSAL, "coordinator": (403, 404)},
    ),
    api("GET", "/api/v1/cases", **everyone(200)),
    api("POST", "/api/v1/cases/search", body=lambda v: {"q": v.person_id_number}, **everyone(200)),
    # Mediators register for their own organisation only (another one is a 422 on organization_id);
    # a legal-aid officer may register but not for a mediation committee; officials never register.
    api(
        "POST",
        "/api/v1/cases",
        body=case_body,
        follows=(policy("cases.register"), policy("cases.register_for", organization="org")),
        admin=201,
        registry_admin=403,
        mediator=(201, 422),
        legal_aid_officer=422,
        coordinator=403,
    ),
    # Asking what a registration would warn of: whoever may register (officials never register).
    api(
        "POST",
        "/api/v1/cases/check-duplicates",
        follows=policy("cases.register"),
        body=lambda v: {"parties": [{"role": "applicant", "name": "某人", "id_number": v.person_id_number}]},
        admin=200,
        registry_admin=403,
        mediator=200,
        legal_aid_officer=200,
        coordinator=403,
    ),
    api("GET", CASE, "/api/v1/cases/{case_accepted}", **READS_CASE),
    api("GET", f"{CASE}/events", "/api/v1/cases/{case_accepted}/events", **READS_CASE),
    api(
        "POST",
        f"{CASE}/accept",
        "/api/v1/cases/{case_registered}/accept",
        follows=policy("cases.handle", case="case_registered"),
        body=lambda v: {},
        **MOVES_CASE,
    ),
    api(
        "POST",
        f"{CASE}/decline",
        "/api/v1/cases/{case_registered}/decline",
        follows=policy("cases.handle", case="case_registered"),
        body=lambda v: {"reason": "不属于人民调解受理范围"},
        **MOVES_CASE,
    ),
    api(
        "POST",
        f"{CASE}/sessions",
        "/api/v1/cases/{case_accepted}/sessions",
        follows=policy("cases.handle", case="case_accepted"),
        body=lambda v: {"summary": "双方到场，陈述事实"},
        **{**MOVES_CASE, "admin": 201, "mediator": (201, 404)},
    ),
    api(
        "POST",
        f"{CASE}/conclude",
        "/api/v1/cases/{case_in_mediation}/conclude",
        follows=policy("cases.handle", case="case_in_mediation"),
        body=lambda v: {"outcome": "withdrawn"},
        **MOVES_CASE,
    ),
    api(
        "POST",
        f"{CASE}/extend",
        "/api/v1/cases/{case_accepted}/extend",
        follows=policy("cases.handle", case="case_accepted"),
        body=lambda v: {"days": 15, "consent_note": "双方同意延长"},
        **MOVES_CASE,
    ),
    api(
        "POST",
        f"{CASE}/confirmation",
        "/api/v1/cases/{case_concluded}/confirmation",
        follows=policy("cases.handle", case="case_concluded"),
        body=lambda v: {"court": "人民法院"},
        **MOVES_CASE,
    ),
    api(
        "POST",
        f"{CASE}/confirmation-result",
        "/api/v1/cases/{case_confirming}/confirmation-result",
        follows=policy("cases.handle", case="case_confirming"),
        body=lambda v: {"confirmed": True},
        **MOVES_CASE,
    ),
    api(
        "POST",
        f"{CASE}/follow-ups",
        "/api/v1/cases/{case_concluded}/follow-ups",
        follows=policy("cases.handle", case="case_concluded"),
        body=lambda v: {"summary": "当事人已履行"},
        **{**MOVES_CASE, "admin": 201, "mediator": (201, 404)},
    ),
    # Only a user of the handling organisation sees a party's full numbers: not even an administrator.
    api(
        "POST",
        f"{CASE}/parties/<int:party_id>/reveal",
        "/api/v1/cases/{case_accepted}/parties/{party}/reveal",
        follows=policy("cases.reveal_party", case="case_accepted"),
        admin=403,
        registry_admin=(403, 404),
        mediator=(200, 404),
        legal_aid_officer=404,
        coordinator=(403, 404),
    ),
    api(
        "GET",
        f"{CASE}/routes",
        "/api/v1/cases/{case_accepted}/routes",
        follows=policy("transfers.see_routes", case="case_accepted"),
        **READS_CASE,
    ),
    # The paperwork: whoever reads the case reads its documents (full ID numbers in the agreement only for the
    # handling organisation's users, masked for everyone else: tests/test_documents_api.py); a paper not
    # available yet is a 409 for everyone who may read the case.
    api("GET", f"{CASE}/documents", "/api/v1/cases/{case_accepted}/documents", **READS_CASE),
    api("GET", f"{CASE}/documents/<kind>", "/api/v1/cases/{case_concluded}/documents/agreement", **READS_CASE),
    api(
        "GET",
        f"{CASE}/documents/<kind>",
        "/api/v1/cases/{case_accepted}/documents/agreement",
        note="not available yet",
        **{**READS_CASE, "admin": 409, "registry_admin": (409, 404), "mediator": (409, 404), "coordinator": (409, 404)},
    ),
    api("GET", f"{CASE}/documents/<kind>", "/api/v1/cases/{case_moved_away}/documents/application", **SENDER_READS),
    api(
        "GET",
        f"{CASE}/documents/<kind>",
        "/api/v1/cases/{case_co_mediated}/documents/application",
        admin=200,
        registry_admin=404,
        mediator=(200, 404),
        legal_aid_officer=404,
        coordinator=404,
    ),
    api(
        "GET",
        "/api/v1/documents/by-digest",
        "/api/v1/documents/by-digest?digest=" + "0" * 64,
        note="no such paper",
        **everyone(404),
    ),
    # A Tianjin case the side's committee co-mediates: its mediators read it but never move it nor see its
    # parties' numbers; Beijing's officials do not see it (it is handled in Tianjin).
    api(
        "GET",
        CASE,
        "/api/v1/cases/{case_co_mediated}",
        admin=200,
        registry_admin=404,
        mediator=(200, 404),
        legal_aid_officer=404,
        coordinator=404,
    ),
    api(
        "POST",
        f"{CASE}/sessions",
        "/api/v1/cases/{case_co_mediated}/sessions",
        follows=policy("cases.handle", case="case_co_mediated"),
        body=lambda v: {"summary": "联合调解，双方到场"},
        admin=201,
        registry_admin=404,
        mediator=(403, 404),
        legal_aid_officer=404,
        coordinator=404,
    ),
    api(
        "POST",
        f"{CASE}/parties/<int:party_id>/reveal",
        "/api/v1/cases/{case_co_mediated}/parties/{co_mediated_party}/reveal",
        follows=policy("cases.reveal_party", case="case_co_mediated"),
        admin=403,
        registry_admin=404,
        mediator=(403, 404),
        legal_aid_officer=404,
        coordinator=404,
    ),
    # … nor send it anywhere (the lead organisation sends; here the admin asks for the partner to take it over).
    api(
        "POST",
        "/api/v1/transfers",
        note="a co-mediated case",
        follows=policy("transfers.send", case="case_co_mediated"),
        body=lambda v: {"case_id": v.case_co_mediated, "to_organization_id": v.org, "agreement_code": "JJJ-MEDIATION"},
        admin=201,
        registry_admin=404,
        mediator=(403, 404),
        legal_aid_officer=404,
        coordinator=404,
    ),
    # A case the side's committee handed over to Tianjin (accepted there): the committee keeps a read-only view
    # (detail, timeline; parties masked) and may do nothing to it (403); Beijing's officials no longer see it.
    api("GET", CASE, "/api/v1/cases/{case_moved_away}", **SENDER_READS),
    api("GET", f"{CASE}/events", "/api/v1/cases/{case_moved_away}/events", **SENDER_READS),
    *[
        api(
            "POST",
            f"{CASE}/{action}",
            f"/api/v1/cases/{{case_moved_away}}/{action}",
            follows=policy("cases.handle", case="case_moved_away"),
            body=body,
            **{**SENDER_ACTS, "admin": admin},
        )
        for action, body, admin in SENDER_ACTIONS
    ],
    api(
        "POST",
        f"{CASE}/parties/<int:party_id>/reveal",
        "/api/v1/cases/{case_moved_away}/parties/{moved_away_party}/reveal",
        follows=policy("cases.reveal_party", case="case_moved_away"),
        **{**SENDER_ACTS, "admin": 403},
    ),
    api(
        "GET",
        f"{CASE}/routes",
        "/api/v1/cases/{case_moved_away}/routes",
        follows=policy("transfers.see_routes", case="case_moved_away"),
        **{**SENDER_ACTS, "admin": 200},
    ),
    api(
        "POST",
        "/api/v1/transfers",
        note="a case handed over",
        follows=policy("transfers.send", case="case_moved_away"),
        body=lambda v: {"case_id": v.case_moved_away, "to_organization_id": v.org, "agreement_code": "JJJ-MEDIATION"},
        **{**SENDER_ACTS, "admin": 201},
    ),
    api("GET", "/api/v1/transfers", **everyone(200)),
    # Only the handling organisation sends a case; officials who see the case get a 403 (was a 422 on case_id).
    api(
        "POST",
        "/api/v1/transfers",
        follows=policy("transfers.send", case="case_routable"),
        body=lambda v: {
            "case_id": v.case_routable,
            "to_organization_id": v.tianjin_org,
            "agreement_code": "JJJ-MEDIATION",
        },
        admin=201,
        registry_admin=(403, 404),
        mediator=(201, 404),
        legal_aid_officer=404,
        coordinator=(403, 404),
    ),
    api(
        "GET",
        TRANSFER,
        "/api/v1/transfers/{transfer_in}",
        admin=200,
        registry_admin=(200, 404),
        mediator=(200, 404),
        legal_aid_officer=404,
        coordinator=(200, 404),
    ),
    api(
        "POST",
        f"{TRANSFER}/accept",
        "/api/v1/transfers/{transfer_in}/accept",
        follows=policy("transfers.answer", transfer="transfer_in"),
        body=lambda v: {},
        **ANSWERS_TRANSFER,
    ),
    api(
        "POST",
        f"{TRANSFER}/decline",
        "/api/v1/transfers/{transfer_in}/decline",
        follows=policy("transfers.answer", transfer="transfer_in"),
        body=lambda v: {"reason_code": "capacity"},
        **ANSWERS_TRANSFER,
    ),
    api(
        "POST",
        f"{TRANSFER}/withdraw",
        "/api/v1/transfers/{transfer_out}/withdraw",
        follows=policy("transfers.withdraw", transfer="transfer_out"),
        **ANSWERS_TRANSFER,
    ),
    api(
        "GET",
        "/api/v1/escalations",
        follows=policy("transfers.see_escalations"),
        admin=200,
        registry_admin=403,
        mediator=403,
        legal_aid_officer=403,
        coordinator=200,
    ),
    api("GET", "/api/v1/legal-aid/applications", **everyone(200)),
    # Officers file at their own centre only (another centre is a 422 on centre_id).
    api(
        "POST",
        "/api/v1/legal-aid/applications",
        body=application_body,
        follows=(policy("legal_aid.file"), policy("legal_aid.file_at", organization="centre")),
        admin=201,
        registry_admin=403,
        mediator=403,
        legal_aid_officer=(201, 422),
        coordinator=403,
    ),
    api(
        "GET",
        APP,
        "/api/v1/legal-aid/applications/{la_accepted}",
        admin=200,
        registry_admin=404,
        mediator=404,
        legal_aid_officer=(200, 404),
        coordinator=(200, 404),
    ),
    api(
        "GET",
        f"{APP}/documents",
        "/api/v1/legal-aid/applications/{la_accepted}/documents",
        admin=200,
        registry_admin=404,
        mediator=404,
        legal_aid_officer=(200, 404),
        coordinator=(200, 404),
    ),
    api(
        "GET",
        f"{APP}/documents/<kind>",
        "/api/v1/legal-aid/applications/{la_granted}/documents/decision",
        admin=200,
        registry_admin=404,
        mediator=404,
        legal_aid_officer=(200, 404),
        coordinator=(200, 404),
    ),
    api(
        "GET",
        f"{APP}/documents/<kind>",
        "/api/v1/legal-aid/applications/{la_accepted}/documents/decision",
        note="not decided yet",
        admin=409,
        registry_admin=404,
        mediator=404,
        legal_aid_officer=(409, 404),
        coordinator=(409, 404),
    ),
    api(
        "POST",
        f"{APP}/transfer",
        "/api/v1/legal-aid/applications/{la_filed}/transfer",
        follows=policy("legal_aid.handle", application="la_filed"),
        body=lambda v: {"to_centre_id": v.tianjin_centre},
        **MOVES_APPLICATION,
    ),
    api(
        "POST",
        f"{APP}/accept",
        "/api/v1/legal-aid/applications/{la_transferred}/accept",
        follows=policy("legal_aid.handle", application="la_transferred"),
        body=lambda v: {},
        **MOVES_APPLICATION,
    ),
    api(
        "POST",
        f"{APP}/decide",
        "/api/v1/legal-aid/applications/{la_accepted}/decide",
        follows=policy("legal_aid.handle", application="la_accepted"),
        body=lambda v: {"granted": True},
        **MOVES_APPLICATION,
    ),
    api(
        "POST",
        f"{APP}/assign",
        "/api/v1/legal-aid/applications/{la_granted}/assign",
        follows=policy("legal_aid.handle", application="la_granted"),
        body=lambda v: {"lawyer_name": "王律师"},
        **MOVES_APPLICATION,
    ),
    api(
        "POST",
        f"{APP}/close",
        "/api/v1/legal-aid/applications/{la_assigned}/close",
        follows=policy("legal_aid.handle", application="la_assigned"),
        body=lambda v: {},
        **MOVES_APPLICATION,
    ),
    api(
        "POST",
        f"{APP}/supplement-request",
        "/api/v1/legal-aid/applications/{la_accepted}/supplement-request",
        follows=policy("legal_aid.handle", application="la_accepted"),
        body=lambda v: {"items": "身份证明"},
        **MOVES_APPLICATION,
    ),
    # nothing was asked for yet: whoever may act is told so (409), the others as for any transition
    api(
        "POST",
        f"{APP}/supplement-received",
        "/api/v1/legal-aid/applications/{la_accepted}/supplement-received",
        follows=policy("legal_aid.handle", application="la_accepted"),
        body=lambda v: {},
        **{**MOVES_APPLICATION, "admin": 409, "legal_aid_officer": (409, 404)},
    ),
    # An application the side's centre passed on to Tianjin: still readable there (and by the region's
    # coordinator, where it was filed), but only the centre now holding it may act.
    api(
        "GET",
        APP,
        "/api/v1/legal-aid/applications/{la_passed_on}",
        admin=200,
        registry_admin=404,
        mediator=404,
        legal_aid_officer=(200, 404),
        coordinator=(200, 404),
    ),
    api(
        "POST",
        f"{APP}/accept",
        "/api/v1/legal-aid/applications/{la_passed_on}/accept",
        follows=policy("legal_aid.handle", application="la_passed_on"),
        body=lambda v: {},
        admin=200,
        registry_admin=404,
        mediator=404,
        legal_aid_officer=(403, 404),
        coordinator=(403, 404),
    ),
    api("GET", "/api/v1/reports/rates", **everyone(200)),
    api("GET", "/api/v1/reports/flows", **everyone(200)),
    api("GET", "/api/v1/reports/overdue", **everyone(200)),
    # Reports narrowed to a region, an organisation or a studio: only inside the caller's scope; a mediator
    # or an officer reads its own organisation's figures, never a region's.
    *[
        api(
            "GET",
            f"/api/v1/reports/{report}",
            f"/api/v1/reports/{report}?region_code={{county}}",
            admin=200,
            registry_admin=(200, 404),
            mediator=404,
            legal_aid_officer=404,
            coordinator=(200, 404),
        )
        for report in ("rates", "flows", "overdue")
    ],
    api("GET", "/api/v1/reports/rates", "/api/v1/reports/rates?organization_id={org}", **READS_CASE),
    api("GET", "/api/v1/reports/rates", "/api/v1/reports/rates?studio_id={studio}", **READS_CASE),
    api("GET", "/api/v1/report-subscriptions", **everyone(200)),
    api(
        "POST",
        "/api/v1/report-subscriptions",
        body=subscription_body,
        follows=policy("reporting.manage_subscriptions"),
        admin=201,
        registry_admin=403,
        mediator=403,
        legal_aid_officer=403,
        coordinator=(201, 422),
    ),
    api(
        "GET",
        "/api/v1/report-subscriptions/<int:subscription_id>",
        "/api/v1/report-subscriptions/{subscription}",
        admin=200,
        registry_admin=(200, 404),
        mediator=404,
        legal_aid_officer=404,
        coordinator=(200, 404),
    ),
    api(
        "PATCH",
        "/api/v1/report-subscriptions/<int:subscription_id>",
        "/api/v1/report-subscriptions/{subscription}",
        body=lambda v: {"active": True},
        follows=policy("reporting.manage_subscriptions"),
        admin=200,
        registry_admin=(403, 404),
        mediator=404,
        legal_aid_officer=404,
        coordinator=(200, 404),
    ),
    api("GET", "/api/v1/report-deliveries", **everyone(200)),
    api(
        "POST",
        "/api/v1/report-deliveries/<int:delivery_id>/redeliver",
        "/api/v1/report-deliveries/{delivery}/redeliver",
        follows=policy("reporting.redeliver"),
        admin=200,
        registry_admin=(403, 404),
        mediator=404,
        legal_aid_officer=404,
        coordinator=(200, 404),
    ),
    # Pulling snapshots: an administrator, or the governance centre's own account (the coordinator works there).
    api("GET", "/api/v1/reports/snapshots", **everyone(200)),
    api(
        "GET",
        "/api/v1/reports/snapshots/<int:snapshot_id>",
        "/api/v1/reports/snapshots/{snapshot}",
        admin=200,
        registry_admin=404,
        mediator=404,
        legal_aid_officer=404,
        coordinator=(200, 404),
    ),
    api("GET", "/api/v1/notifications", **everyone(200)),
    # ``in`` is a notice addressed to the caller itself; ``out`` one for a Hebei organisation.
    api(
        "POST",
        "/api/v1/notifications/<int:notification_id>/read",
        "/api/v1/notifications/{notification}/read",
        **everyone((200, 404)),
    ),
    # The working-day calendar: every user may read which years are official or provisional; only an
    # administrator loads a year (2099: far enough that no deadline of the world moves).
    api("GET", "/api/v1/calendar/years", **everyone(200)),
    api(
        "PUT",
        "/api/v1/calendar/years/<int:year>",
        "/api/v1/calendar/years/2099",
        follows=policy("calendars.maintain"),
        body=lambda v: {"holidays": ["2099-01-01"], "workdays": [], "source": "authz"},
        **everyone(403, admin=200),
    ),
    # Bulk import of historical cases: administrators anywhere, registry administrators into their region, a
    # mediator into its own organisation (another one is a 422 on organization_id); nobody else.
    api(
        "POST",
        "/api/v1/imports/cases",
        body=import_upload,
        follows=policy("imports.import_cases"),
        admin=202,
        registry_admin=(202, 422),
        mediator=(202, 422),
        legal_aid_officer=403,
        coordinator=403,
    ),
    api("GET", "/api/v1/imports/<int:job_id>", "/api/v1/imports/{import_job}", **READS_IMPORT),
    api("GET", "/api/v1/imports/<int:job_id>/errors", "/api/v1/imports/{import_job}/errors", **READS_IMPORT),
    # Case list exports: anyone who reads the list may export it (its own scope); a job and its file are its
    # owner's alone ("in": the caller's own export, "out": another user's), administrators included.
    api("POST", "/api/v1/cases/exports", body=lambda v: {"format": "csv", "filters": {}}, **everyone(202)),
    api("GET", "/api/v1/exports/<int:export_id>", "/api/v1/exports/{export_job}", **everyone((200, 404))),
    api("GET", "/api/v1/exports/<int:export_id>/file", "/api/v1/exports/{export_job}/file", **everyone((200, 404))),
    # Personal-data requests of one person (PIPL): administrators only, wherever the person's cases are.
    api(
        "POST",
        "/api/v1/privacy/person-export",
        follows=policy("privacy.person_request"),
        body=lambda v: {"id_number": v.person_id_number},
        **everyone(403, admin=200),
    ),
    api(
        "POST",
        "/api/v1/privacy/person-erase",
        follows=policy("privacy.person_request"),
        body=lambda v: {"id_number": v.person_id_number},
        **everyone(403, admin=200),
    ),
    # Between hubs (federation/api.py): no bearer token; a known peer's signature is the authentication, so an
    # unsigned body is refused (401) whoever sends it, token or not; the message types are published to anyone.
    api(
        "POST",
        "/api/v1/federation/inbox",
        body=lambda v: {"id": "msg_unsigned", "from_hub": "nobody", "type": "directory.snapshot"},
        **everyone(401),
        anonymous=401,
    ),
    api("GET", "/api/v1/federation/types", **everyone(200), anonymous=200),
]

# --- pages ------------------------------------------------------------------------------------------------


def registration_form(v: Values) -> dict:
    from tests.factories_cases import person

    form = {
        "organization_id": v.org,
        "category": "neighbour",
        "source": "party_application",
        "summary": "邻里之间因漏水发生纠纷",
        "received_on": _recent(),
        "occurred_region_code": v.county,
    }
    for index, role in enumerate(("applicant", "respondent")):
        party = person(role, region_code=v.county)
        form.update(
            {
                f"parties-{index}-role": role,
                f"parties-{index}-kind": "person",
                f"parties-{index}-name": party["name"],
                f"parties-{index}-number": party["id_number"],
                f"parties-{index}-phone": party["phone"],
                f"parties-{index}-region_code": v.county,
            }
        )
    return form


def filing_form(v: Values) -> dict:
    data = application_body(v)
    applicant = data["applicant"]
    return {
        "centre_id": v.centre,
        "applicant_name": applicant["name"],
        "id_number": applicant["id_number"],
        "phone": applicant["phone"],
        "applicant_region_code": applicant["region_code"],
        "matter_category": data["matter_category"],
        "matter_region_code": data["matter_region_code"],
        "hardship": "declaration",
        "summary": data["summary"],
        "received_on": data["received_on"],
    }


def agreement_form(v: Values) -> dict:
    return {
        "name": "矩阵测试协议（修订）",
        "kind": "pairing",
        "scope": "mediation",
        "member_codes": " ".join(v.agreement_members),
        "response_working_days": "3",
        "signed_on": "2026-01-05",
    }


def sealed_person(v: Values) -> dict:
    from mediation_hub.privacy.views import seal

    return {"person": seal(v.person_id_number)}


CASE_PAGE = "/cases/{case}"
# A case action on its page: done is a redirect back to the case; the rest as in the API.
PAGE_MOVES_CASE = {**MOVES_CASE, "admin": 302, "mediator": (302, 404)}
# Legal-aid actions answer 303 (see other) back to the application, with the outcome as a message.
PAGE_MOVES_APPLICATION = {**MOVES_APPLICATION, "admin": 303, "legal_aid_officer": (303, 404)}
PAGE_EDITS_REGISTRY = {**EDITS_REGISTRY, "admin": 302, "registry_admin": (302, 404)}
PAGE_CREATES_IN_REGISTRY = {**CREATES_IN_REGISTRY, "admin": 302, "registry_admin": (302, 422)}
REGISTRY_FORM = dict(admin=200, registry_admin=200, mediator=403, legal_aid_officer=403, coordinator=403)
OFFICIALS = dict(admin=200, registry_admin=403, mediator=403, legal_aid_officer=403, coordinator=200)
ADMIN_ONLY = everyone(403, admin=200)
PAGE_ANSWERS_TRANSFER = {**ANSWERS_TRANSFER, "admin": 302, "mediator": (302, 404)}
KEEPS_AGREEMENT = dict(admin=302, registry_admin=403, mediator=403, legal_aid_officer=403, coordinator=(302, 403))

PAGE_ROWS = [
    # Each role lands where its work is; the administrator has a home page.
    page("GET", "home", "/", **everyone(302, admin=200)),
    page("GET", "auth.login", "/login", **everyone(200), anonymous=200),
    page("GET", "favicon", "/favicon.ico", **everyone(200), anonymous=200),
    page(
        "POST",
        "auth.login",
        "/login",
        body=lambda v: {"username": "nobody-here", "password": "wrong"},
        **everyone(422),
        anonymous=422,
    ),
    page("POST", "auth.logout", "/logout", **everyone(LOGIN)),
    page("GET", "auth.user_list", "/accounts", follows=policy("auth.manage_accounts"), **ADMIN_ONLY),
    page("GET", "auth.user_create", "/accounts/new", follows=policy("auth.manage_accounts"), **ADMIN_ONLY),
    page(
        "POST",
        "auth.user_create",
        "/accounts/new",
        follows=policy("auth.manage_accounts"),
        body=lambda v: {
            "username": f"new-{v.county}",
            "role": "coordinator",
            "region": v.province,
            "password": "a-long-enough-password-1",
        },
        **everyone(403, admin=302),
    ),
    page(
        "POST",
        "auth.user_active",
        "/accounts/{user}/active",
        follows=policy("auth.manage_accounts"),
        body=lambda v: {"active": "0"},
        **everyone(403, admin=302),
    ),
    page("GET", "auth.user_edit", "/accounts/{user}/edit", follows=policy("auth.manage_accounts"), **ADMIN_ONLY),
    page(
        "POST",
        "auth.user_edit",
        "/accounts/{user}/edit",
        follows=policy("auth.manage_accounts"),
        body=lambda v: {"role": "coordinator", "region": v.province},
        **everyone(403, admin=302),
    ),
    page("GET", "auth.change_password", "/account/password", **everyone(200)),
    page(
        "POST",
        "auth.change_password",
        "/account/password",
        body=lambda v: {
            "current_password": "correct-horse-battery",
            "new_password": "a-new-matrix-password-1",
            "new_password_again": "a-new-matrix-password-1",
        },
        **everyone(302),
    ),
    page("GET", "audit.audit_log", "/audit", follows=policy("audit.read_log"), **ADMIN_ONLY),
    # Federation between hubs: administrators only (peers themselves are added with the command line).
    page("GET", "federation.overview", "/federation", follows=policy("federation.manage"), **ADMIN_ONLY),
    page(
        "POST",
        "federation.send_again",
        "/federation/messages/{set_aside_message}/send-again",
        follows=policy("federation.manage"),
        **everyone(403, admin=302),
    ),
    page("GET", "calendar.calendar_years", "/calendar", follows=policy("calendars.maintain"), **ADMIN_ONLY),
    page(
        "POST",
        "calendar.load_calendar_year",
        "/calendar",
        follows=policy("calendars.maintain"),
        body=lambda v: {"year": "2099"},
        **everyone(403, admin=200),
    ),  # without "confirm" the page previews the load: nothing is saved
    page("GET", "regions.region_children", "/regions/children?parent={province}", **everyone(200)),
    page("GET", "regions.places", "/regions/places", follows=policy("regions.maintain_places"), **ADMIN_ONLY),
    page(
        "POST",
        "regions.places",
        "/regions/places",
        follows=policy("regions.maintain_places"),
        body=places_upload,
        **everyone(403, admin=302),
    ),  # loaded, back to the page with the counts
    page("GET", "registry.organization_list", "/registry/organizations", **everyone(200)),
    page("GET", "registry.organization_detail", "/registry/organizations/{org}", **READS_CASE),
    page(
        "GET",
        "registry.organization_create",
        "/registry/organizations/new",
        follows=policy("registry.edit"),
        **REGISTRY_FORM,
    ),
    page(
        "POST",
        "registry.organization_create",
        "/registry/organizations/new",
        follows=policy("registry.edit"),
        body=lambda v: {"name": "新登记的调解委员会", "kind": "people_mediation_committee", "region_code": v.county},
        **PAGE_CREATES_IN_REGISTRY,
    ),
    page(
        "GET",
        "registry.organization_edit",
        "/registry/organizations/{org}/edit",
        follows=policy("registry.edit"),
        **EDITS_REGISTRY,
    ),
    page(
        "POST",
        "registry.organization_edit",
        "/registry/organizations/{org}/edit",
        follows=policy("registry.edit"),
        body=lambda v: {"name": v.org_name, "kind": "people_mediation_committee", "region_code": v.county},
        **PAGE_EDITS_REGISTRY,
    ),
    page("GET", "registry.mediator_list", "/registry/mediators", **everyone(200)),
    page("GET", "registry.mediator_detail", "/registry/mediators/{mediator}", **READS_CASE),
    page(
        "POST",
        "registry.mediator_reveal",
        "/registry/mediators/{mediator}/reveal",
        follows=policy("registry.edit"),
        **EDITS_REGISTRY,
    ),
    page(
        "GET", "registry.mediator_create", "/registry/mediators/new", follows=policy("registry.edit"), **REGISTRY_FORM
    ),
    page(
        "POST",
        "registry.mediator_create",
        "/registry/mediators/new",
        follows=policy("registry.edit"),
        body=lambda v: {"name": "新调解员", "organization_id": v.org},
        **PAGE_CREATES_IN_REGISTRY,
    ),
    page(
        "GET",
        "registry.mediator_edit",
        "/registry/mediators/{mediator}/edit",
        follows=policy("registry.edit"),
        **EDITS_REGISTRY,
    ),
    page(
        "POST",
        "registry.mediator_edit",
        "/registry/mediators/{mediator}/edit",
        follows=policy("registry.edit"),
        body=lambda v: {"name": v.mediator_name, "organization_id": v.org},
        **PAGE_EDITS_REGISTRY,
    ),
    page("GET", "registry.studio_list", "/registry/studios", **everyone(200)),
    page("GET", "registry.studio_detail", "/registry/studios/{studio}", **READS_CASE),
    page("GET", "registry.studio_create", "/registry/studios/new", follows=policy("registry.edit"), **REGISTRY_FORM),
    page(
        "POST",
        "registry.studio_create",
        "/registry/studios/new",
        follows=policy("registry.edit"),
        body=lambda v: {"name": f"新工作室{v.county}", "organization_id": v.org, "lead_mediator_id": v.spare_mediator},
        **PAGE_CREATES_IN_REGISTRY,
    ),
    page(
        "GET",
        "registry.studio_edit",
        "/registry/studios/{studio}/edit",
        follows=policy("registry.edit"),
        **EDITS_REGISTRY,
    ),
    page(
        "POST",
        "registry.studio_edit",
        "/registry/studios/{studio}/edit",
        follows=policy("registry.edit"),
        body=lambda v: {"name": v.studio_name, "organization_id": v.org, "lead_mediator_id": v.mediator},
        **PAGE_EDITS_REGISTRY,
    ),
    page("GET", "agreements.agreement_list", "/agreements/", **everyone(200)),
    page("GET", "agreements.agreement_detail", "/agreements/{agreement}", **everyone(200)),
    page("GET", "agreements.agreement_create", "/agreements/new", follows=policy("agreements.keep"), **OFFICIALS),
    # The form is open to keepers; members outside the coordinator's region are refused on saving.
    page(
        "POST",
        "agreements.agreement_create",
        "/agreements/new",
        follows=policy("agreements.keep", codes="agreement_members"),
        body=lambda v: {**agreement_form(v), "code": f"NEW-{v.county}"},
        **KEEPS_AGREEMENT,
    ),
    page(
        "GET",
        "agreements.agreement_edit",
        "/agreements/{matrix_agreement}/edit",
        follows=policy("agreements.keep", agreement="matrix_agreement"),
        **{**OFFICIALS, "coordinator": (200, 403)},
    ),
    page(
        "POST",
        "agreements.agreement_edit",
        "/agreements/{matrix_agreement}/edit",
        follows=policy("agreements.keep", agreement="matrix_agreement"),
        body=agreement_form,
        **KEEPS_AGREEMENT,
    ),
    page(
        "POST",
        "agreements.agreement_deactivate",
        "/agreements/{matrix_agreement}/deactivate",
        follows=policy("agreements.keep", agreement="matrix_agreement"),
        **KEEPS_AGREEMENT,
    ),
    page(
        "POST",
        "agreements.agreement_reactivate",
        "/agreements/{matrix_agreement_off}/reactivate",
        follows=policy("agreements.keep", agreement="matrix_agreement_off"),
        **KEEPS_AGREEMENT,
    ),
    # (A coordinator's create, edit, deactivate and reactivate above are proposals: a redirect to the proposal.)
    page("GET", "agreements.proposal_list", "/agreements/proposals", **everyone(200)),
    page("GET", "agreements.proposal_detail", "/agreements/proposals/{proposal}", **SEES_PROPOSAL),
    page(
        "POST",
        "agreements.proposal_confirm",
        "/agreements/proposals/{proposal}/confirm",
        follows=policy("agreements.confirm", proposal="proposal"),
        **{**SEES_PROPOSAL, "admin": 403, "coordinator": (302, 404)},
    ),
    page(
        "POST",
        "agreements.proposal_decline",
        "/agreements/proposals/{proposal}/decline",
        follows=policy("agreements.decline", proposal="proposal"),
        body=lambda v: {"reason": "本区域不同意调整答复时限"},
        **{**SEES_PROPOSAL, "admin": 302, "coordinator": (302, 404)},
    ),
    page(
        "POST",
        "agreements.proposal_withdraw",
        "/agreements/proposals/{own_proposal}/withdraw",
        follows=policy("agreements.withdraw", proposal="own_proposal"),
        **{**SEES_PROPOSAL, "admin": (302, 403), "coordinator": (302, 404)},
    ),
    page(
        "POST",
        "agreements.proposal_apply",
        "/agreements/proposals/{proposal}/apply",
        follows=policy("agreements.apply"),
        **{**SEES_PROPOSAL, "admin": 302, "coordinator": (403, 404)},
    ),
    page("GET", "cases.worklist", "/cases/worklist", **everyone(200)),
    page("GET", "cases.case_list", "/cases", **everyone(200)),
    page("POST", "cases.search_case_list", "/cases", body=lambda v: {"q": v.person_id_number}, **everyone(303)),
    page("GET", "cases.export_case_list", "/cases/export.csv", **everyone(200)),
    page("GET", "cases.register_case", "/cases/new", **everyone(200)),
    page(
        "POST",
        "cases.register_case",
        "/cases/new",
        follows=(policy("cases.register"), policy("cases.register_for", organization="org")),
        body=registration_form,
        admin=302,
        registry_admin=403,
        mediator=(302, 422),
        legal_aid_officer=422,
        coordinator=403,
    ),
    page("GET", "cases.case_detail", "/cases/{case_accepted}", **READS_CASE),
    page(
        "GET",
        "cases.case_detail",
        "/cases/{case_co_mediated}",
        admin=200,
        registry_admin=404,
        mediator=(200, 404),
        legal_aid_officer=404,
        coordinator=404,
    ),
    page("GET", "cases.case_detail", "/cases/{case_moved_away}", **SENDER_READS),
    page("GET", "documents.case_document", "/cases/{case_concluded}/documents/agreement", **READS_CASE),
    page("GET", "documents.case_document", "/cases/{case_moved_away}/documents/application", **SENDER_READS),
    page(
        "POST",
        "cases.record_session",
        "/cases/{case_moved_away}/sessions",
        follows=policy("cases.handle", case="case_moved_away"),
        body=lambda v: {"record_session-summary": "双方到场，陈述事实"},
        **{**SENDER_ACTS, "admin": 302},
    ),
    page(
        "POST",
        "cases.conclude",
        "/cases/{case_moved_away}/conclude",
        follows=policy("cases.handle", case="case_moved_away"),
        body=lambda v: {"conclude-outcome": "withdrawn"},
        **{**SENDER_ACTS, "admin": 302},
    ),
    page(
        "POST",
        "cases.reveal_party",
        "/cases/{case_moved_away}/parties/{moved_away_party}/reveal",
        follows=policy("cases.reveal_party", case="case_moved_away"),
        **{**SENDER_ACTS, "admin": 403},
    ),
    page(
        "POST",
        "transfers.request_transfer",
        "/transfers/request",
        note="a case handed over",
        follows=policy("transfers.send", case="case_moved_away"),
        body=lambda v: {
            "case_id": v.case_moved_away,
            "to_organization_id": v.org,
            "agreement_code": "JJJ-MEDIATION",
            "mode": "transfer",
        },
        **{**SENDER_ACTS, "admin": 302},
    ),
    page(
        "POST",
        "cases.accept",
        "/cases/{case_registered}/accept",
        follows=policy("cases.handle", case="case_registered"),
        body=lambda v: {"accept-accepted_on": _today()},
        **PAGE_MOVES_CASE,
    ),
    page(
        "POST",
        "cases.decline",
        "/cases/{case_registered}/decline",
        follows=policy("cases.handle", case="case_registered"),
        body=lambda v: {"decline-reason": "不属于人民调解受理范围"},
        **PAGE_MOVES_CASE,
    ),
    page(
        "POST",
        "cases.record_session",
        "/cases/{case_accepted}/sessions",
        follows=policy("cases.handle", case="case_accepted"),
        body=lambda v: {"record_session-summary": "双方到场，陈述事实"},
        **PAGE_MOVES_CASE,
    ),
    page(
        "POST",
        "cases.conclude",
        "/cases/{case_in_mediation}/conclude",
        follows=policy("cases.handle", case="case_in_mediation"),
        body=lambda v: {"conclude-outcome": "withdrawn"},
        **PAGE_MOVES_CASE,
    ),
    page(
        "POST",
        "cases.extend_time_limit",
        "/cases/{case_accepted}/extend",
        follows=policy("cases.handle", case="case_accepted"),
        body=lambda v: {"extend_time_limit-days": "15", "extend_time_limit-consent_note": "双方同意延长"},
        **PAGE_MOVES_CASE,
    ),
    page(
        "POST",
        "cases.apply_for_confirmation",
        "/cases/{case_concluded}/confirmation",
        follows=policy("cases.handle", case="case_concluded"),
        body=lambda v: {"apply_for_confirmation-court": "人民法院"},
        **PAGE_MOVES_CASE,
    ),
    page(
        "POST",
        "cases.record_confirmation_result",
        "/cases/{case_confirming}/confirmation-result",
        follows=policy("cases.handle", case="case_confirming"),
        body=lambda v: {"record_confirmation_result-confirmed": "true"},
        **PAGE_MOVES_CASE,
    ),
    page(
        "POST",
        "cases.record_follow_up",
        "/cases/{case_concluded}/follow-ups",
        follows=policy("cases.handle", case="case_concluded"),
        body=lambda v: {"record_follow_up-summary": "当事人已履行"},
        **PAGE_MOVES_CASE,
    ),
    page(
        "POST",
        "cases.reveal_party",
        "/cases/{case_accepted}/parties/{party}/reveal",
        follows=policy("cases.reveal_party", case="case_accepted"),
        admin=403,
        registry_admin=(403, 404),
        mediator=(200, 404),
        legal_aid_officer=404,
        coordinator=(403, 404),
    ),
    page("GET", "transfers.queue", "/transfers/", **everyone(200)),
    page(
        "GET",
        "transfers.escalations",
        "/transfers/escalations",
        follows=policy("transfers.see_escalations"),
        **OFFICIALS,
    ),
    page("GET", "transfers.transfer_detail", "/transfers/{transfer_in}", **READS_CASE),
    page(
        "POST",
        "transfers.accept",
        "/transfers/{transfer_in}/accept",
        follows=policy("transfers.answer", transfer="transfer_in"),
        **PAGE_ANSWERS_TRANSFER,
    ),
    page(
        "POST",
        "transfers.decline",
        "/transfers/{transfer_in}/decline",
        follows=policy("transfers.answer", transfer="transfer_in"),
        body=lambda v: {"reason_code": "capacity"},
        **PAGE_ANSWERS_TRANSFER,
    ),
    page(
        "POST",
        "transfers.withdraw",
        "/transfers/{transfer_out}/withdraw",
        follows=policy("transfers.withdraw", transfer="transfer_out"),
        body=lambda v: {"confirm": "1"},
        **PAGE_ANSWERS_TRANSFER,
    ),
    # Sent from the case page: done, or a broken rule, is a redirect back to it (the refusal as a message).
    page(
        "POST",
        "transfers.request_transfer",
        "/transfers/request",
        follows=policy("transfers.send", case="case_routable"),
        body=lambda v: {
            "case_id": v.case_routable,
            "to_organization_id": v.tianjin_org,
            "agreement_code": "JJJ-MEDIATION",
            "mode": "transfer",
        },
        admin=302,
        registry_admin=(403, 404),
        mediator=(302, 404),
        legal_aid_officer=404,
        coordinator=(403, 404),
    ),
    page("GET", "legal_aid.application_list", "/legal-aid/applications", **everyone(200)),
    page(
        "GET",
        "legal_aid.file_application",
        "/legal-aid/applications/new",
        follows=policy("legal_aid.file"),
        **everyone(403, admin=200, legal_aid_officer=200),
    ),
    page(
        "POST",
        "legal_aid.file_application",
        "/legal-aid/applications/new",
        body=filing_form,
        follows=(policy("legal_aid.file"), policy("legal_aid.file_at", organization="centre")),
        **everyone(403, admin=302, legal_aid_officer=(302, 422)),
    ),
    page(
        "GET",
        "legal_aid.application_detail",
        "/legal-aid/applications/{la_accepted}",
        admin=200,
        registry_admin=404,
        mediator=404,
        legal_aid_officer=(200, 404),
        coordinator=(200, 404),
    ),
    page(
        "GET",
        "documents.application_document",
        "/legal-aid/applications/{la_accepted}/documents/application_form",
        admin=200,
        registry_admin=404,
        mediator=404,
        legal_aid_officer=(200, 404),
        coordinator=(200, 404),
    ),
    page(
        "GET",
        "legal_aid.application_detail",
        "/legal-aid/applications/{la_passed_on}",
        admin=200,
        registry_admin=404,
        mediator=404,
        legal_aid_officer=(200, 404),
        coordinator=(200, 404),
    ),
    page(
        "POST",
        "legal_aid.accept",
        "/legal-aid/applications/{la_passed_on}/accept",
        follows=policy("legal_aid.handle", application="la_passed_on"),
        **{**PAGE_MOVES_APPLICATION, "legal_aid_officer": (403, 404)},
    ),
    page(
        "POST",
        "legal_aid.transfer",
        "/legal-aid/applications/{la_filed}/transfer",
        follows=policy("legal_aid.handle", application="la_filed"),
        body=lambda v: {"transfer-to_centre_id": v.tianjin_centre},
        **PAGE_MOVES_APPLICATION,
    ),
    page(
        "POST",
        "legal_aid.accept",
        "/legal-aid/applications/{la_transferred}/accept",
        follows=policy("legal_aid.handle", application="la_transferred"),
        **PAGE_MOVES_APPLICATION,
    ),
    page(
        "POST",
        "legal_aid.decide",
        "/legal-aid/applications/{la_accepted}/decide",
        follows=policy("legal_aid.handle", application="la_accepted"),
        body=lambda v: {"decide-decision": "grant"},
        **PAGE_MOVES_APPLICATION,
    ),
    page(
        "POST",
        "legal_aid.assign",
        "/legal-aid/applications/{la_granted}/assign",
        follows=policy("legal_aid.handle", application="la_granted"),
        body=lambda v: {"assign-lawyer_name": "王律师"},
        **PAGE_MOVES_APPLICATION,
    ),
    page(
        "POST",
        "legal_aid.close",
        "/legal-aid/applications/{la_assigned}/close",
        follows=policy("legal_aid.handle", application="la_assigned"),
        **PAGE_MOVES_APPLICATION,
    ),
    page(
        "POST",
        "legal_aid.request_supplement",
        "/legal-aid/applications/{la_accepted}/supplement-request",
        follows=policy("legal_aid.handle", application="la_accepted"),
        body=lambda v: {"request_supplement-items": "身份证明"},
        **PAGE_MOVES_APPLICATION,
    ),
    page(
        "POST",
        "legal_aid.receive_supplement",
        "/legal-aid/applications/{la_accepted}/supplement-received",
        follows=policy("legal_aid.handle", application="la_accepted"),
        **PAGE_MOVES_APPLICATION,
    ),
    page("GET", "reporting.dashboard", "/reporting", follows=policy("reporting.see_dashboard"), **OFFICIALS),
    page(
        "GET",
        "reporting.dashboard",
        "/reporting?region_code={county}",
        follows=policy("reporting.see_dashboard"),
        **{**OFFICIALS, "coordinator": (200, 404)},
    ),
    page(
        "GET",
        "reporting.dashboard_download_xlsx",
        "/reporting/download.xlsx",
        follows=policy("reporting.see_dashboard"),
        **OFFICIALS,
    ),
    page(
        "GET",
        "reporting.dashboard_download_xlsx",
        "/reporting/download.xlsx?region_code={county}",
        follows=policy("reporting.see_dashboard"),
        **{**OFFICIALS, "coordinator": (200, 404)},
    ),
    page(
        "GET",
        "reporting.subscription_list",
        "/reporting/subscriptions",
        follows=policy("reporting.manage_subscriptions"),
        **OFFICIALS,
    ),
    page(
        "POST",
        "reporting.create_subscription",
        "/reporting/subscriptions",
        follows=policy("reporting.manage_subscriptions"),
        body=subscription_body,
        **{**OFFICIALS, "admin": 302, "coordinator": (302, 422)},
    ),
    page(
        "POST",
        "reporting.redeliver",
        "/reporting/deliveries/{delivery}/redeliver",
        follows=policy("reporting.redeliver"),
        **{**OFFICIALS, "admin": 302, "coordinator": (302, 404)},
    ),
    page("GET", "notifications.notification_list", "/notifications/", **everyone(200)),
    page("POST", "notifications.notification_read", "/notifications/{notification}/read", **everyone((302, 404))),
    page("POST", "notifications.notification_read_all", "/notifications/read-all", **everyone(302)),
    page(
        "GET",
        "imports.import_upload",
        "/imports/cases",
        follows=policy("imports.import_cases"),
        **everyone(403, admin=200, registry_admin=200, mediator=200),
    ),
    # An organisation outside the importer's choices fails the form: the page is shown again (200).
    page(
        "POST",
        "imports.import_upload",
        "/imports/cases",
        follows=policy("imports.import_cases"),
        body=import_upload,
        **everyone(403, admin=302, registry_admin=(302, 200), mediator=(302, 200)),
    ),
    page("GET", "imports.import_job", "/imports/{import_job}", **READS_IMPORT),
    page("GET", "imports.import_job_status", "/imports/{import_job}/status", **READS_IMPORT),
    page("GET", "imports.import_errors", "/imports/{import_job}/errors.csv", **READS_IMPORT),
    page("GET", "exports.export_job", "/exports/{export_job}", **everyone((200, 404))),
    page("GET", "exports.export_job_status", "/exports/{export_job}/status", **everyone((200, 404))),
    page("GET", "exports.export_download", "/exports/{export_job}/file", **everyone((200, 404))),
    page("GET", "privacy.person_request", "/privacy/person", follows=policy("privacy.person_request"), **ADMIN_ONLY),
    page(
        "POST",
        "privacy.person_request",
        "/privacy/person",
        follows=policy("privacy.person_request"),
        body=lambda v: {"id_number": v.person_id_number},
        **ADMIN_ONLY,
    ),
    page(
        "POST",
        "privacy.person_export",
        "/privacy/person/export",
        follows=policy("privacy.person_request"),
        body=sealed_person,
        **ADMIN_ONLY,
    ),
    page(
        "POST",
        "privacy.person_erase",
        "/privacy/person/erase",
        follows=policy("privacy.person_request"),
        body=sealed_person,
        **ADMIN_ONLY,
    ),
]

ROWS = API_ROWS + PAGE_ROWS

# Lists show exactly the records their item call lets the caller reach: (list URL, record, item row id).
# A record is reachable when its item row's answer for that role and scope is anything but 404.
LISTS = [
    ("/api/v1/organizations?per_page=100", "org", "GET /api/v1/organizations/{org}"),
    ("/api/v1/mediators?per_page=100", "mediator", "GET /api/v1/mediators/{mediator}"),
    ("/api/v1/studios?per_page=100", "studio", "GET /api/v1/studios/{studio}"),
    ("/api/v1/cases?per_page=100", "case_accepted", "GET /api/v1/cases/{case_accepted}"),
    ("/api/v1/transfers?per_page=100", "transfer_in", "GET /api/v1/transfers/{transfer_in}"),
    ("/api/v1/legal-aid/applications?per_page=100", "la_accepted", "GET /api/v1/legal-aid/applications/{la_accepted}"),
    ("/api/v1/report-subscriptions?per_page=100", "subscription", "GET /api/v1/report-subscriptions/{subscription}"),
    ("/api/v1/report-deliveries?per_page=100", "delivery", "POST /api/v1/report-deliveries/{delivery}/redeliver"),
    ("/api/v1/reports/snapshots?per_page=100", "snapshot", "GET /api/v1/reports/snapshots/{snapshot}"),
    ("/api/v1/notifications?per_page=100", "notification", "POST /api/v1/notifications/{notification}/read"),
    ("/api/v1/agreement-proposals?per_page=100", "proposal", "GET /api/v1/agreement-proposals/{proposal}"),
]
# Pages that list records, checked the same way by what they show: (page URL, text naming the record,
# item row id). A page never names a record its item call hides.
PAGE_LISTS = [
    ("/registry/organizations?per_page=100", "org_name", "GET /api/v1/organizations/{org}"),
    ("/registry/mediators?per_page=100", "mediator_name", "GET /api/v1/mediators/{mediator}"),
    ("/registry/studios?per_page=100", "studio_name", "GET /api/v1/studios/{studio}"),
    ("/cases?per_page=100", "case_accepted_number", "GET /api/v1/cases/{case_accepted}"),
    ("/legal-aid/applications", "la_accepted_number", "GET /api/v1/legal-aid/applications/{la_accepted}"),
    ("/agreements/proposals", "proposal_code", "GET /api/v1/agreement-proposals/{proposal}"),
]
ROWS_BY_ID = {row.id: row for row in ROWS}
