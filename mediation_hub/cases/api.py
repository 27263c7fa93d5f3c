"""Cases API: registration, the lifecycle transitions, the timeline and the audited reveal.

Views translate; the service decides; each call commits once."""

from flask import Response, current_app, jsonify, request
from flask.views import MethodView
from flask_smorest import Blueprint

from ..auth.current import current_actor
from ..core.pagination import count_of
from ..core.uow import as_committed
from . import service
from .schemas import (
    AcceptIn,
    CaseCreatedOut,
    CaseDetailOut,
    CaseIn,
    CasePage,
    CaseQuery,
    CaseSearchIn,
    ConcludeIn,
    ConfirmationIn,
    ConfirmationResultIn,
    DeclineIn,
    DuplicateCheckIn,
    DuplicateCheckOut,
    DuplicateConflict,
    EventList,
    ExtendIn,
    FollowUpIn,
    PartyRevealOut,
    SessionIn,
    case_answer,
)

blp = Blueprint("cases_api", __name__, url_prefix="/api/v1", description="Dispute cases and their lifecycle")


def _as_read_by(actor, cases: list, *, transferred_out: bool = False) -> list:
    """Mark the cases the caller only reads (its organisation handed them over: ``read_only``, no
    ``allowed_actions``) and name where they went (``transferred_to``); the "已转出" list names it for all."""
    ids = [case.id for case in cases]
    read_only = service.read_only_ids(actor, ids)
    wanted = ids if transferred_out else [i for i in ids if i in read_only]
    handed = service.handovers(actor, wanted)
    for case in cases:
        case.read_only, case.handover = case.id in read_only, handed.get(case.id)
    return cases


def _page_of_cases(args: dict) -> Response:
    """A page of the case list: the count, then the page with everything it shows (two statements), built as
    ``CasePage`` dumps it."""
    page, per_page = args.pop("page"), args.pop("per_page")
    per_page = min(per_page or current_app.config["DEFAULT_PAGE_SIZE"], current_app.config["MAX_PAGE_SIZE"])
    actor = current_actor()
    stmt = service.search_cases(actor, **args)
    total = count_of(stmt)
    reads = (
        service.read_page(actor, stmt, page, per_page, handed_over=bool(args.get("transferred_out"))) if total else []
    )
    items = [case_answer(read, detail=False) for read in reads]
    return jsonify({"items": items, "total": total, "page": page, "per_page": per_page})


@blp.route("/cases")
class Cases(MethodView):
    @blp.arguments(CaseQuery, location="query")
    @blp.response(200, CasePage)
    def get(self, args):
        """Cases in the caller's scope, filtered; parties masked.

        A party's full ID number or phone never goes in the query string (it would stay in access logs, proxies
        and browser history): ``q`` holding one is refused with a 422 naming ``q``. Search by it with
        ``POST /api/v1/cases/search``, or pass its keyed hash as ``pid``."""
        return _page_of_cases(args)

    @blp.arguments(CaseIn)
    @blp.response(201, CaseCreatedOut)
    @blp.alt_response(409, schema=DuplicateConflict, description="a possible duplicate, not confirmed")
    def post(self, data):
        """Register a dispute.

        When one of the parties (same ID number or USCC) is a party of an open case registered in the last 90
        days, nothing is registered: the answer is 409 with ``error`` ``possible_duplicate`` and ``duplicates``
        (the candidates the caller may see, and a count of other organisations' cases). Sent again with
        ``"confirm_duplicate": true`` it registers, and ``warnings`` names those cases. To ask before sending,
        ``POST /api/v1/cases/check-duplicates``."""
        confirmed = data.pop("confirm_duplicate", False)
        try:
            case, warnings = service.register_case(current_actor(), data, stop_on_duplicate=not confirmed)
        except service.PossibleDuplicate as exc:
            exc.details = {"duplicates": DuplicateCheckOut().dump(exc.check)}
            raise
        case_id = case.id  # read before it is expired (reading it after would cost a query of its own)
        as_committed(case)
        case = service.get_case(current_actor(), case_id, detail=True)  # as it will be committed, loaded at once
        case.registration_warnings = warnings
        return case


@blp.route("/cases/check-duplicates")
class CheckDuplicates(MethodView):
    @blp.arguments(DuplicateCheckIn)
    @blp.response(200, DuplicateCheckOut)
    def post(self, data):
        """What registering these parties would warn of, registering nothing: the open cases of the last 90 days
        with one of them (same ID number or USCC) that the caller may see, parties masked, and how many more
        other organisations handle. Numbers travel in the body, never in a URL."""
        return service.check_for_duplicates(current_actor(), data["parties"])


@blp.route("/cases/search")
class CaseSearch(MethodView):
    @blp.arguments(CaseSearchIn)
    @blp.response(200, CasePage)
    def post(self, args):
        """Cases in the caller's scope, with the filters of ``GET /cases`` (page and per_page too) in the
        body: the way to search by a party's full ID number or phone (``q``), which never travels in a URL.
        Read-only; parties masked."""
        return _page_of_cases(args)


@blp.route("/cases/<int:case_id>")
class CaseItem(MethodView):
    @blp.response(200, CaseDetailOut)
    def get(self, case_id):
        """The case with its parties (masked), sessions and follow-ups. An organisation that handed the case
        over by an accepted transfer still reads it: ``read_only`` true, ``transferred_to`` set, no actions."""
        return jsonify(case_answer(service.read_case(current_actor(), case_id), detail=True))


def _transition(func, case_id: int, data: dict):
    """Run a transition on the case loaded with its detail (``detail=True``): the service flushes the case and keeps
    it whole (the mediator, session or follow-up it added), so the answer shows the state to be committed (version
    included) without reading the case again."""
    return func(current_actor(), case_id, detail=True, **data)


@blp.route("/cases/<int:case_id>/accept")
class Accept(MethodView):
    @blp.arguments(AcceptIn)
    @blp.response(200, CaseDetailOut)
    def post(self, data, case_id):
        """受理: registered → accepted, with its due date."""
        return _transition(service.accept_case, case_id, data)


@blp.route("/cases/<int:case_id>/decline")
class Decline(MethodView):
    @blp.arguments(DeclineIn)
    @blp.response(200, CaseDetailOut)
    def post(self, data, case_id):
        """不予受理: registered → declined."""
        return _transition(service.decline_case, case_id, data)


@blp.route("/cases/<int:case_id>/sessions")
class Sessions(MethodView):
    @blp.arguments(SessionIn)
    @blp.response(201, CaseDetailOut)
    def post(self, data, case_id):
        """Record a mediation session: → in_mediation."""
        return _transition(service.record_session, case_id, data)


@blp.route("/cases/<int:case_id>/conclude")
class Conclude(MethodView):
    @blp.arguments(ConcludeIn)
    @blp.response(200, CaseDetailOut)
    def post(self, data, case_id):
        """办结 with an outcome: → concluded."""
        return _transition(service.conclude_case, case_id, data)


@blp.route("/cases/<int:case_id>/extend")
class Extend(MethodView):
    @blp.arguments(ExtendIn)
    @blp.response(200, CaseDetailOut)
    def post(self, data, case_id):
        """Extend the time limit with the parties' consent."""
        return _transition(service.extend_time_limit, case_id, data)


@blp.route("/cases/<int:case_id>/confirmation")
class Confirmation(MethodView):
    @blp.arguments(ConfirmationIn)
    @blp.response(200, CaseDetailOut)
    def post(self, data, case_id):
        """Record the application for judicial confirmation (within 30 days of the agreement)."""
        return _transition(service.apply_for_confirmation, case_id, data)


@blp.route("/cases/<int:case_id>/confirmation-result")
class ConfirmationResult(MethodView):
    @blp.arguments(ConfirmationResultIn)
    @blp.response(200, CaseDetailOut)
    def post(self, data, case_id):
        """Record the court's decision on judicial confirmation."""
        return _transition(service.record_confirmation_result, case_id, data)


@blp.route("/cases/<int:case_id>/follow-ups")
class FollowUps(MethodView):
    @blp.arguments(FollowUpIn)
    @blp.response(201, CaseDetailOut)
    def post(self, data, case_id):
        """Record a follow-up visit on a concluded case."""
        return _transition(service.record_follow_up, case_id, data)


@blp.route("/cases/<int:case_id>/events")
class Events(MethodView):
    @blp.response(200, EventList)
    def get(self, case_id):
        """The case's timeline, oldest first."""
        return {"items": service.get_case(current_actor(), case_id).events}


@blp.route("/cases/<int:case_id>/parties/<int:party_id>/reveal")
class PartyReveal(MethodView):
    @blp.response(200, PartyRevealOut)
    def post(self, case_id, party_id):
        """A party's full ID number and phone, for the handling organisation only; audited."""
        numbers = service.reveal_party_numbers(current_actor(), case_id, party_id, remote_addr=request.remote_addr)
        return numbers, {"X-Personal-Data": "revealed"}  # marks the audited reveal (tests/pii_guard.py)
