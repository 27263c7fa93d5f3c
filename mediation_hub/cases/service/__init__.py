"""Case operations, each taking the acting user first; they flush and never commit.

``from mediation_hub.cases import service`` gives the whole surface: scope (``cases_visible_to``,
``get_case``, ``worklist``, ``search_cases``), ``register_case``, one function per transition, the audited
``reveal_party_numbers``, and from ``cases.rules`` the table-driven ``allowed_actions`` and ``is_overdue``."""

from ..rules import TRANSITIONS, allowed_actions, is_cross_region, is_overdue
from .registration import (
    DuplicateCheck,
    PossibleDuplicate,
    case_columns,
    check_case_data,
    check_for_duplicates,
    handling_organization_problem,
    party_columns,
    possible_duplicates,
    register_case,
    validate_case_data,
)
from .reveal import reveal_party_numbers
from .scope import (
    DETAIL_LOADING,
    Handover,
    SearchedNumber,
    can_handle,
    carries_personal_number,
    case_scope,
    cases_visible_to,
    get_case,
    handovers,
    is_of_handling_organization,
    masked_text,
    only_reads,
    read_only_ids,
    readable_by,
    require_may_act,
    search_cases,
    searched_number,
    transferred_out_condition,
    worklist,
)
from .transitions import (
    accept_case,
    apply_for_confirmation,
    check_conclusion,
    conclude_case,
    decline_case,
    extend_time_limit,
    record_confirmation_result,
    record_follow_up,
    record_session,
)

__all__ = [
    "DETAIL_LOADING",
    "TRANSITIONS", "accept_case", "allowed_actions", "apply_for_confirmation", "can_handle", "case_columns",
    "case_scope", "check_case_data", "check_conclusion", "handling_organization_problem", "party_columns",
    "validate_case_data",
    "cases_visible_to", "conclude_case", "decline_case", "extend_time_limit", "get_case", "is_cross_region",
    "is_of_handling_organization", "is_overdue", "possible_duplicates", "record_confirmation_result",
    "record_follow_up", "record_session", "register_case", "reveal_party_numbers", "search_cases", "worklist",
    "SearchedNumber", "carries_personal_number", "masked_text", "searched_number",
    "Handover", "handovers", "only_reads", "read_only_ids", "readable_by", "require_may_act",
    "transferred_out_condition",
    "DuplicateCheck", "PossibleDuplicate", "check_for_duplicates",
]
