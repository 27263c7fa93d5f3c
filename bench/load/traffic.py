"""The people of the mixed traffic, each a loop in a thread over real HTTP:

- a mediator logs cases: registers one (parties with ID numbers and phones), accepts it, then either records a
  session and concludes it, or — for a cross-region dispute (about one in three) — asks for the routes and
  sends it to the first partner organisation along one;
- an officer of a receiving organisation lists the transfers waiting for it and accepts or declines each;
- an official reads the dashboard page (signed in through the sign-in form, like a person) and the rates API.

Every request is timed and recorded with the answer's status; an answer other than the one the scenario
expects is an error. ``case_integrity`` checks afterwards that no case was half written."""

from __future__ import annotations

import random
import re
import threading
import time
from dataclasses import dataclass
from datetime import date

import requests
import sqlalchemy as sa
from stdnum.cn import ric

from .support import BENCH_PASSWORD, Account, Recorder, Sample, Seeded

CATEGORIES = ("neighbour", "marriage_family", "contract", "property_management", "labour", "consumer", "damages")
OUTCOMES = ("agreement", "agreement", "agreement", "no_agreement", "withdrawn")
# Where the other party of a cross-region dispute lives: another 京津冀 province than the organisation's, where
# the bench has officers answering (support.ANSWERING_REGIONS: Beijing and 保定).
OTHER_PROVINCE_COUNTY = {"11": "130602", "12": "110105", "13": "110105"}
GROUPINGS = ("month", "category", "region", "organization")


def today_shanghai() -> date:
    from mediation_hub.core.shanghai import today_shanghai as today

    return today()


@dataclass
class Hub:
    """One person's HTTP client: a requests session, their bearer token, and the shared recorder."""

    base_url: str
    recorder: Recorder
    token: str | None = None
    timeout: float = 30.0

    def __post_init__(self):
        self.session = requests.Session()
        if self.token:
            self.session.headers["Authorization"] = f"Bearer {self.token}"

    def call(self, kind: str, method: str, path: str, expect=(200,), **kwargs) -> requests.Response | None:
        """Send, time and record one request; the response when its status is expected, else None."""
        started = time.perf_counter()
        try:
            response = self.session.request(
                method, self.base_url + path, timeout=self.timeout, allow_redirects=False, **kwargs
            )
        except requests.RequestException as exc:
            self.recorder.add(
                Sample(
                    kind,
                    0,
                    (time.perf_counter() - started) * 1000,
                    False,
                    time.monotonic(),
                    f"{type(exc).__name__}: {exc}"[:300],
                )
            )
            return None
        ms = (time.perf_counter() - started) * 1000
        ok = response.status_code in expect
        detail = "" if ok else f"{method} {path}: {response.text[:300]}"
        self.recorder.add(Sample(kind, response.status_code, ms, ok, time.monotonic(), detail))
        return response if ok else None


class Person(threading.Thread):
    """A traffic thread: repeats ``step`` until ``stop`` is set; never raises out of the thread."""

    def __init__(self, name: str, stop: threading.Event, seed: int):
        super().__init__(name=name, daemon=True)
        self.stop_event, self.rng = stop, random.Random(seed)
        self.crashed: BaseException | None = None

    def run(self):
        try:
            while not self.stop_event.is_set():
                self.step()
        except BaseException as exc:  # a bug in the bench itself must show, not vanish with the thread
            self.crashed = exc

    def step(self):
        raise NotImplementedError


_id_sequence = iter(range(10**9))
_id_lock = threading.Lock()


def id_number(rng: random.Random) -> str:
    """A resident ID number with a correct check digit (registered in 朝阳区, born 1950–1999)."""
    with _id_lock:
        sequence = next(_id_sequence) % 1000
    born = date(rng.randint(1950, 1999), rng.randint(1, 12), rng.randint(1, 28))
    body = f"110105{born:%Y%m%d}{sequence:03d}"
    return body + ric.calc_check_digit(body + "0")


def phone(rng: random.Random) -> str:
    return f"139{rng.randint(0, 99_999_999):08d}"


def case_payload(account: Account, rng: random.Random, cross_region: bool) -> dict:
    home = account.region_code
    other = OTHER_PROVINCE_COUNTY[home[:2]] if cross_region else home
    return {
        "organization_id": account.organization_id,
        "category": rng.choice(CATEGORIES),
        "source": "party_application",
        "summary": "压测：邻里之间因漏水、噪音发生纠纷，双方申请调解",
        "occurred_region_code": home,
        "major": False,
        # random numbers may meet an earlier case's party: the traffic registers anyway (no 409 possible_duplicate)
        "confirm_duplicate": True,
        "parties": [
            {
                "role": "applicant",
                "kind": "person",
                "name": f"申请人{rng.randint(1, 9999)}",
                "id_number": id_number(rng),
                "phone": phone(rng),
                "region_code": home,
            },
            {
                "role": "respondent",
                "kind": "person",
                "name": f"被申请人{rng.randint(1, 9999)}",
                "id_number": id_number(rng),
                "phone": phone(rng),
                "region_code": other,
            },
        ],
    }


class Mediator(Person):
    """Logs cases from registration to conclusion; sends the cross-region ones to a partner organisation."""

    def __init__(self, hub: Hub, accounts: list[Account], answerable: set[int], stop, seed: int):
        super().__init__(f"mediator-{seed}", stop, seed)
        self.hub, self.accounts, self.answerable = hub, accounts, answerable
        self.transfers_sent = 0
        self.created: list[int] = []  # ids of the cases the hub acknowledged (201)

    def step(self):
        account = self.rng.choice(self.accounts)
        self.hub.session.headers["Authorization"] = f"Bearer {account.token}"
        cross = account.region_code[:2] in OTHER_PROVINCE_COUNTY and self.rng.random() < 0.35
        created = self.hub.call(
            "case_register", "POST", "/api/v1/cases", (201,), json=case_payload(account, self.rng, cross)
        )
        if created is None:
            return
        case_id = created.json()["id"]
        self.created.append(case_id)
        if self.hub.call("case_accept", "POST", f"/api/v1/cases/{case_id}/accept", json={}) is None:
            return
        if cross and self.send_along_a_route(case_id):
            return
        if (
            self.hub.call(
                "case_session",
                "POST",
                f"/api/v1/cases/{case_id}/sessions",
                (201,),
                json={"summary": "双方到场，陈述事实并协商"},
            )
            is None
        ):
            return
        outcome = self.rng.choice(OUTCOMES)
        body = {"outcome": outcome}
        if outcome == "agreement":
            body |= {"agreement_amount_yuan": f"{self.rng.randint(100, 20000)}.00", "terms": "被申请人赔偿维修费"}
        self.hub.call("case_conclude", "POST", f"/api/v1/cases/{case_id}/conclude", json=body)

    def send_along_a_route(self, case_id: int) -> bool:
        routes = self.hub.call("case_routes", "GET", f"/api/v1/cases/{case_id}/routes")
        if routes is None:
            return True
        route = next((r for r in routes.json()["routes"] if r["organization_id"] in self.answerable), None)
        if route is None:  # no partner with an officer in the bench: mediate it locally instead
            return False
        sent = self.hub.call(
            "transfer_request",
            "POST",
            "/api/v1/transfers",
            (201,),
            json={
                "case_id": case_id,
                "to_organization_id": route["organization_id"],
                "agreement_code": route["agreement_code"],
                "mode": "transfer",
                "note": "压测转办",
            },
        )
        self.transfers_sent += sent is not None
        return True


class Officer(Person):
    """Answers the transfers waiting for its organisations: two in three accepted, the others declined."""

    def __init__(self, hub: Hub, accounts: list[Account], stop, seed: int):
        super().__init__(f"officer-{seed}", stop, seed)
        self.hub, self.accounts = hub, accounts
        self.answered = 0

    def step(self):
        waiting = 0
        for account in self.accounts:
            if self.stop_event.is_set():
                return
            self.hub.session.headers["Authorization"] = f"Bearer {account.token}"
            page = self.hub.call(
                "transfer_list",
                "GET",
                "/api/v1/transfers",
                params={"direction": "incoming", "status": "pending", "per_page": 20},
            )
            if page is None:
                continue
            for transfer in page.json()["items"]:
                waiting += 1
                if self.rng.random() < 2 / 3:
                    answer = self.hub.call(
                        "transfer_accept", "POST", f"/api/v1/transfers/{transfer['id']}/accept", json={}
                    )
                else:
                    answer = self.hub.call(
                        "transfer_decline",
                        "POST",
                        f"/api/v1/transfers/{transfer['id']}/decline",
                        json={"reason_code": "capacity", "reason_text": "本月案件已满"},
                    )
                self.answered += answer is not None
        if not waiting:
            self.stop_event.wait(0.3)  # nothing to answer: look again shortly, as a person refreshing would


class Official(Person):
    """Reads the dashboard page (a signed-in browser session) and the rates API (a bearer token)."""

    def __init__(self, base_url: str, recorder: Recorder, account: Account, stop, seed: int):
        super().__init__(f"official-{seed}", stop, seed)
        self.account = account
        self.api = Hub(base_url, recorder, account.token)
        self.page = Hub(base_url, recorder)
        self.signed_in = False

    def sign_in(self) -> bool:
        form = self.page.call("page_login_form", "GET", "/login")
        if form is None:
            return False
        match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form.text)
        token = match.group(1) if match else ""
        done = self.page.call(
            "page_login",
            "POST",
            "/login",
            (302,),
            data={"csrf_token": token, "username": self.account.username, "password": BENCH_PASSWORD},
        )
        self.signed_in = done is not None
        return self.signed_in

    def step(self):
        if not self.signed_in and not self.sign_in():
            self.stop_event.wait(0.5)
            return
        region = self.account.region_code
        params = {"region_code": region} if region else {}
        if self.rng.random() < 0.5:
            self.page.call("dashboard_page", "GET", "/reporting", params=params)
        else:
            self.api.call(
                "rates_api", "GET", "/api/v1/reports/rates", params=params | {"group_by": self.rng.choice(GROUPINGS)}
            )


def cast(
    seeded: Seeded,
    base_url: str,
    recorder: Recorder,
    stop: threading.Event,
    *,
    mediators: int = 4,
    officers: int = 2,
    officials: int = 2,
    timeout: float = 30.0,
) -> list[Person]:
    """The traffic threads (not started): mediator threads share the case-logging accounts, officer threads
    split the receiving organisations between them, officials take the coordinators and the administrator."""
    answerable = {a.organization_id for a in seeded.officers}
    people: list[Person] = []
    for i in range(mediators):
        people.append(Mediator(Hub(base_url, recorder, timeout=timeout), seeded.mediators, answerable, stop, 100 + i))
    for i in range(officers):
        share = seeded.officers[i::officers]
        people.append(Officer(Hub(base_url, recorder, timeout=timeout), share, stop, 200 + i))
    for i in range(officials):
        official = Official(base_url, recorder, seeded.officials[i % len(seeded.officials)], stop, 300 + i)
        official.api.timeout = official.page.timeout = timeout
        people.append(official)
    return people


def case_integrity(app) -> dict:
    """Counts that show a half-written case, each of which must be 0, and the totals they were taken over.

    A case without parties or without its registration event, an accepted (or later) case without its
    acceptance event, a concluded one without its conclusion event; and as many transfer events of each kind
    as transfers in that state."""
    from mediation_hub.extensions import db

    def event_missing(code: str, statuses: tuple[str, ...]) -> str:
        where = f"c.status IN ({', '.join(repr(s) for s in statuses)}) AND " if statuses else ""
        return (
            f"SELECT COUNT(*) FROM cases c WHERE {where}NOT EXISTS "
            f"(SELECT 1 FROM case_events e WHERE e.case_id = c.id AND e.code = '{code}')"
        )

    queries = {
        "cases": "SELECT COUNT(*) FROM cases",
        "parties": "SELECT COUNT(*) FROM parties",
        "transfers": "SELECT COUNT(*) FROM transfers",
        "cases_without_parties": "SELECT COUNT(*) FROM cases c WHERE NOT EXISTS "
        "(SELECT 1 FROM parties p WHERE p.case_id = c.id)",
        "cases_with_one_party": "SELECT COUNT(*) FROM cases c WHERE "
        "(SELECT COUNT(*) FROM parties p WHERE p.case_id = c.id) = 1",
        "cases_without_registered_event": event_missing("registered", ()),
        "accepted_without_event": event_missing("accepted", ("accepted", "in_mediation", "concluded")),
        "in_mediation_without_session": "SELECT COUNT(*) FROM cases c WHERE c.status = 'in_mediation' AND "
        "NOT EXISTS (SELECT 1 FROM mediation_sessions s WHERE s.case_id = c.id)",
        "concluded_without_event": event_missing("concluded", ("concluded",)),
        "transfer_events_mismatch": "SELECT ABS((SELECT COUNT(*) FROM transfers) - (SELECT COUNT(*) FROM "
        "case_events WHERE code = 'transfer_requested'))",
        "accepted_transfer_events_mismatch": "SELECT ABS((SELECT COUNT(*) FROM transfers WHERE status = "
        "'accepted') - (SELECT COUNT(*) FROM case_events WHERE code = "
        "'transfer_accepted'))",
        "declined_transfer_events_mismatch": "SELECT ABS((SELECT COUNT(*) FROM transfers WHERE status = "
        "'declined') - (SELECT COUNT(*) FROM case_events WHERE code = "
        "'transfer_declined'))",
    }
    with app.app_context():
        result = {name: db.session.scalar(sa.text(sql)) for name, sql in queries.items()}
        db.session.remove()
    return result


# The counts of case_integrity that show a half-written record (the others are totals).
BROKEN_KEYS = (
    "cases_without_parties",
    "cases_with_one_party",
    "cases_without_registered_event",
    "accepted_without_event",
    "in_mediation_without_session",
    "concluded_without_event",
    "transfer_events_mismatch",
    "accepted_transfer_events_mismatch",
    "declined_transfer_events_mismatch",
)
