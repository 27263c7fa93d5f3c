"""Agreements API: every signed-in role reads agreements; an administrator keeps them directly; a coordinator
proposes, and the proposal waits for a coordinator of every affected member region. The service decides."""

from flask.views import MethodView
from flask_smorest import Blueprint

from ..auth.current import current_actor
from ..core.pagination import paginate
from ..core.uow import as_committed
from . import proposals, service
from .schemas import (
    AgreementIn,
    AgreementOut,
    AgreementPage,
    AgreementPatch,
    AgreementQuery,
    ProposalDeclineIn,
    ProposalOut,
    ProposalPage,
    ProposalQuery,
)

blp = Blueprint("agreements_api", __name__, url_prefix="/api/v1", description="Inter-regional agreements")


@blp.route("/agreements")
class Agreements(MethodView):
    @blp.arguments(AgreementQuery, location="query")
    @blp.response(200, AgreementPage)
    def get(self, args):
        """Agreements, filtered by scope (``both`` counts for either), kind, active flag and a member region.
        Only agreements in force are listed: a pending proposal is not an agreement."""
        stmt = service.list_agreements(
            current_actor(),
            scope=args["scope"],
            kind=args["kind"],
            region_code=args["region_code"],
            active=args["active"],
        )
        return paginate(stmt, args["page"], args["per_page"])

    @blp.arguments(AgreementIn)
    @blp.response(201, AgreementOut)
    def post(self, data):
        """An administrator records an agreement with its member regions (each covers its whole subtree).

        An agreement binds every member: a coordinator gets 403 here and proposes it with
        ``POST /api/v1/agreement-proposals`` instead."""
        agreement = service.create_agreement(current_actor(), data)
        return as_committed(agreement)


@blp.route("/agreements/<code>")
class AgreementItem(MethodView):
    @blp.response(200, AgreementOut)
    def get(self, code):
        """One agreement as it is in force."""
        return service.get_agreement(current_actor(), code)

    @blp.arguments(AgreementPatch)
    @blp.response(200, AgreementOut)
    def patch(self, data, code):
        """An administrator changes an agreement's terms or members; ``active: false`` takes it out of force.

        A coordinator gets 403 here and proposes the change with ``POST /api/v1/agreements/CODE/proposals``."""
        agreement = service.update_agreement(current_actor(), code, data)
        return as_committed(agreement)


@blp.route("/agreements/<code>/proposals")
class AgreementChangeProposals(MethodView):
    @blp.arguments(AgreementPatch)
    @blp.response(201, ProposalOut)
    def post(self, data, code):
        """Propose a change (the fields of a PATCH; only those that differ are kept) to an agreement touching
        the caller's region. It is ``pending`` until a coordinator of every affected member region has
        confirmed: for a change of members every region of the old and the new sets, otherwise the current
        members; the proposer's own region counts as confirmed. Nothing changes in the agreement before that
        (``state: applied`` when the proposer coordinates every affected region). 409 when a proposal for the
        agreement is already pending; 422 naming each broken rule."""
        proposal = proposals.propose_change(current_actor(), code, data)
        return as_committed(proposal)


@blp.route("/agreement-proposals")
class Proposals(MethodView):
    @blp.arguments(ProposalQuery, location="query")
    @blp.response(200, ProposalPage)
    def get(self, args):
        """Proposals the caller may see (an administrator all; a coordinator those touching their region and
        their own), newest first, filtered by ``state`` and ``agreement_code``."""
        stmt = proposals.list_proposals(current_actor(), state=args["state"], agreement_code=args["agreement_code"])
        return paginate(stmt, args["page"], args["per_page"])

    @blp.arguments(AgreementIn)
    @blp.response(201, ProposalOut)
    def post(self, data):
        """Propose a new agreement (the fields of ``POST /api/v1/agreements``). The agreement does not exist,
        and covers nothing, until a coordinator of every member region has confirmed (the proposer's own
        region counts as confirmed). 409 when the code is taken or already proposed; 422 naming each broken
        rule."""
        proposal = proposals.propose_agreement(current_actor(), data)
        return as_committed(proposal)


@blp.route("/agreement-proposals/<int:proposal_id>")
class ProposalItem(MethodView):
    @blp.response(200, ProposalOut)
    def get(self, proposal_id):
        """One proposal with every member region and who confirmed it when; 404 for a proposal that does not
        concern the caller's region."""
        return proposals.get_proposal(current_actor(), proposal_id)


@blp.route("/agreement-proposals/<int:proposal_id>/confirm")
class ProposalConfirm(MethodView):
    @blp.response(200, ProposalOut)
    def post(self, proposal_id):
        """A coordinator confirms for the member regions within their region (403 for anyone else: an
        administrator applies instead). The last confirmation applies the proposal (``state: applied``).
        409 when it is no longer pending or the caller's regions have already confirmed."""
        proposal = proposals.confirm_proposal(current_actor(), proposal_id)
        return as_committed(proposal)


@blp.route("/agreement-proposals/<int:proposal_id>/decline")
class ProposalDecline(MethodView):
    @blp.arguments(ProposalDeclineIn)
    @blp.response(200, ProposalOut)
    def post(self, data, proposal_id):
        """A coordinator of an affected member region, or an administrator, declines with a ``reason``."""
        proposal = proposals.decline_proposal(current_actor(), proposal_id, reason=data["reason"])
        return as_committed(proposal)


@blp.route("/agreement-proposals/<int:proposal_id>/withdraw")
class ProposalWithdraw(MethodView):
    @blp.response(200, ProposalOut)
    def post(self, proposal_id):
        """The proposer takes a pending proposal back."""
        proposal = proposals.withdraw_proposal(current_actor(), proposal_id)
        return as_committed(proposal)


@blp.route("/agreement-proposals/<int:proposal_id>/apply")
class ProposalApply(MethodView):
    @blp.response(200, ProposalOut)
    def post(self, proposal_id):
        """An administrator applies a pending proposal at once, whatever confirmations are missing (409 when
        the agreement changed since it was proposed)."""
        proposal = proposals.apply_proposal(current_actor(), proposal_id)
        return as_committed(proposal)
