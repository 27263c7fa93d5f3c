"""Who may send, answer and withdraw transfers: the transfers service, the case page's transfer panel, the
transfer page and the authorization matrix read this table (CONVENTIONS 16), so the page offers the send form
to exactly the users the service lets send. Which transfers and cases an actor sees at all is the services'
scope (a 404 for the others). ``RECEIVING_ORGANIZATION`` and ``SENDING_ORGANIZATION`` are declared here,
beside the model they read.

Who sends (DESIGN "Who uses it": the mediator "sends a cross-region case to a partner organisation or asks it
for joint mediation"): a mediator of the organisation handling the case, or an administrator. Answering and
withdrawing speak for an organisation: any of its users."""

from __future__ import annotations

from ..cases.models import Case
from ..cases.policy import HANDLING_ORGANIZATION
from ..cases.service.scope import only_reads
from ..core.actor import Actor, Role
from ..core.i18n import N_
from ..core.policy import ANYWHERE, Policy, Refusal, Rule, Scope, grant
from .models import Transfer

# Users who act for their organisation (an administrator acts anywhere).
ORGANIZATION_USERS = tuple(role for role in Role if role != Role.admin)


def _of_receiver(actor: Actor, transfer: Transfer) -> bool:
    return actor.organization_id is not None and actor.organization_id == transfer.to_organization_id


def _of_sender(actor: Actor, transfer: Transfer) -> bool:
    return actor.organization_id is not None and actor.organization_id == transfer.from_organization_id


def _not_handed_over(actor: Actor, case: Case) -> bool:
    return not only_reads(actor, case)


RECEIVING_ORGANIZATION = Scope("receiving_organization", _of_receiver)
SENDING_ORGANIZATION = Scope("sending_organization", _of_sender)
# A case the actor reads as more than the read-only view its organisation keeps of a case it handed over.
NOT_HANDED_OVER = Scope("not_handed_over", _not_handed_over)

POLICY = Policy(
    "transfers",
    {
        # send a case (mode transfer) or ask for joint mediation (mode joint); the target: the Case
        "send": Rule(
            grant(ANYWHERE, Role.admin) | grant(HANDLING_ORGANIZATION, Role.mediator),
            Refusal("not_handling_organization", N_("只有承办组织可以转办或请求联合调解")),
        ),
        # accept or decline a request; the target: the Transfer
        "answer": Rule(
            grant(ANYWHERE, Role.admin) | grant(RECEIVING_ORGANIZATION, *ORGANIZATION_USERS),
            Refusal("not_receiving_organization", N_("只有接收组织可以这样做")),
        ),
        # withdraw a request not answered yet; the target: the Transfer
        "withdraw": Rule(
            grant(ANYWHERE, Role.admin) | grant(SENDING_ORGANIZATION, *ORGANIZATION_USERS),
            Refusal("not_sending_organization", N_("只有发起组织可以这样做")),
        ),
        # the routes a case may take; the target: the Case (its former handler only reads it)
        "see_routes": Rule(
            grant(NOT_HANDED_OVER, *Role),
            Refusal("case_read_only", N_("该案件已转出，本机构仅可查看")),
        ),
        # the list of expired and overdue requests
        "see_escalations": Rule(
            grant(ANYWHERE, Role.admin, Role.coordinator),
            Refusal("coordinators_only", N_("只有协调人员可查看超期升级列表")),
        ),
    },
)
