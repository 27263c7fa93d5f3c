"""The messages hubs exchange: the envelope and one versioned marshmallow schema per message type.

Envelope: ``{id, type, version, sent_at, from_hub, to_hub, conversation_id, sequence, payload}``. ``type`` and
``version`` together name the payload's schema (``TYPES``); a receiver that does not know the pair refuses the
message (422, code ``unknown_message_type``) and the sender records the refusal. Schemas are published in the
OpenAPI document (``/api/v1/federation/types`` lists them; the inbox call documents the envelope).

Nothing personal travels before a transfer is accepted: ``transfer.offered`` carries the minimum view (names and
masked numbers, as the receiving organisation sees a local request); ``case.handover`` carries the file, sent only
after ``transfer.answered`` said accepted. ``legal_aid.forwarded`` carries the application (the competent centre
must have it to decide; 法律援助法 art. 43)."""

from __future__ import annotations

from marshmallow import EXCLUDE, RAISE, Schema, fields, validate

HUB_ID = validate.Regexp(r"^[a-z][a-z0-9_-]{1,39}$")
CODE = fields.String(validate=validate.Length(max=40))


class OrganizationRef(Schema):
    """An organisation as the sending hub knows it (its own id there)."""

    class Meta:
        unknown = EXCLUDE

    id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    kind = fields.String(required=True, validate=validate.Length(max=40))
    region_code = fields.String(required=True, validate=validate.Length(min=2, max=12))


class DirectoryOrganization(OrganizationRef):
    specialties = fields.List(fields.String(validate=validate.Length(max=40)), load_default=list)
    agreements = fields.List(fields.String(validate=validate.Length(max=40)), load_default=list)


class DirectorySnapshotV1(Schema):
    """``directory.snapshot``: every organisation of the sending hub that takes cross-region work (mediation
    organisations and legal-aid centres that belong to an agreement's regions); the snapshot replaces the last."""

    organizations = fields.List(fields.Nested(DirectoryOrganization), required=True)


class MinimumParty(Schema):
    role = fields.String(required=True)
    kind = fields.String(required=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    id_number_masked = fields.String(allow_none=True, validate=validate.Length(max=24))
    phone_masked = fields.String(allow_none=True, validate=validate.Length(max=24))
    region_code = fields.String(allow_none=True, validate=validate.Length(max=12))


class MinimumCase(Schema):
    """The minimum view of a case (what a receiving organisation needs to decide), never a full number."""

    id = fields.Integer(required=True, strict=True)
    number = fields.String(required=True, validate=validate.Length(min=1, max=40))
    category_code = fields.String(required=True, validate=validate.Length(max=40))
    source_code = fields.String(required=True, validate=validate.Length(max=40))
    summary = fields.String(required=True, validate=validate.Length(min=1, max=5000))
    received_on = fields.Date(required=True)
    accepted_on = fields.Date(required=True)
    due_on = fields.Date(required=True)  # an accepted case has its time limit
    status = fields.String(required=True, validate=validate.OneOf(["accepted", "in_mediation"]))
    major = fields.Boolean(load_default=False)
    occurred_region_code = fields.String(required=True, validate=validate.Length(max=12))
    parties = fields.List(fields.Nested(MinimumParty), required=True)


class TransferOfferedV1(Schema):
    """``transfer.offered``: a case sent (``transfer``) or co-mediation asked (``joint``) under an agreement; the
    receiving hub owns the answer, the expiry and the escalation."""

    transfer_id = fields.Integer(required=True, strict=True)
    mode = fields.String(required=True, validate=validate.OneOf(["transfer", "joint"]))
    agreement_code = fields.String(required=True, validate=validate.Length(max=40))
    requested_on = fields.Date(required=True)
    respond_by = fields.Date(required=True)
    note = fields.String(allow_none=True, validate=validate.Length(max=2000))
    from_organization = fields.Nested(OrganizationRef, required=True)
    to_organization_id = fields.Integer(required=True, strict=True)  # the receiver's own id (its directory)
    case = fields.Nested(MinimumCase, required=True)


class TransferAnsweredV1(Schema):
    """``transfer.answered``: from the receiving hub, the one answer that won there (accepted, declined with a
    reason, expired — then escalated on both sides — or withdrawn at the sender's request); from the sending
    hub, ``withdrawn`` asks the receiver to withdraw a request still pending (it answers with the outcome)."""

    transfer_id = fields.Integer(required=True, strict=True)  # the sending hub's id of the request
    outcome = fields.String(required=True, validate=validate.OneOf(["accepted", "declined", "expired", "withdrawn"]))
    answered_on = fields.Date(required=True)
    reason_code = fields.String(allow_none=True, validate=validate.Length(max=40))
    reason_text = fields.String(allow_none=True, validate=validate.Length(max=2000))
    answered_by = fields.String(allow_none=True, validate=validate.Length(max=120))  # the organisation's name


class FullParty(MinimumParty):
    id_number = fields.String(allow_none=True, validate=validate.Length(max=18))
    id_kind = fields.String(load_default="ric", validate=validate.OneOf(["ric", "uscc"]))
    phone = fields.String(allow_none=True, validate=validate.Length(max=20))
    gender = fields.String(allow_none=True, validate=validate.Length(max=8))
    ethnicity = fields.String(allow_none=True, validate=validate.Length(max=20))
    occupation = fields.String(allow_none=True, validate=validate.Length(max=60))
    address = fields.String(allow_none=True, validate=validate.Length(max=200))
    representative = fields.String(allow_none=True, validate=validate.Length(max=60))


class HistoryEntry(Schema):
    code = fields.String(required=True)
    on_date = fields.Date(required=True)
    organization = fields.String(allow_none=True)


class CaseHandoverV1(Schema):
    """``case.handover``: the file of a case whose transfer (or joint request) was accepted — the parties in
    full (the receiver encrypts them with its own keys at once), the amount, the history as the sender kept it."""

    transfer_id = fields.Integer(required=True, strict=True)
    summary = fields.String(required=True, validate=validate.Length(min=1, max=5000))
    amount_yuan = fields.Decimal(allow_none=True, as_string=True)
    parties = fields.List(fields.Nested(FullParty), required=True)
    history = fields.List(fields.Nested(HistoryEntry), load_default=list)


class CaseOutcomeV1(Schema):
    """``case.outcome``: the result of a case fed back to the other hub of its transfer or joint mediation."""

    transfer_id = fields.Integer(required=True, strict=True)  # the sending hub's id of the request
    status = fields.String(required=True, validate=validate.Length(max=20))
    outcome = fields.String(allow_none=True, validate=validate.Length(max=20))
    concluded_on = fields.Date(allow_none=True)
    organization = fields.String(allow_none=True, validate=validate.Length(max=120))


class LegalAidForwardedV1(Schema):
    """``legal_aid.forwarded``: an application handed under a 通办 agreement to the competent centre on another
    hub; the application travels (the centre must decide on it), the applicant's numbers encrypted there."""

    application_id = fields.Integer(required=True, strict=True)
    number = fields.String(required=True, validate=validate.Length(min=1, max=40))
    agreement_code = fields.String(required=True, validate=validate.Length(max=40))
    forwarded_on = fields.Date(required=True)
    from_centre = fields.Nested(OrganizationRef, required=True)
    filed_centre = fields.Nested(OrganizationRef, required=True)
    to_centre_id = fields.Integer(required=True, strict=True)  # the receiver's own id (its directory)
    applicant_name = fields.String(required=True, validate=validate.Length(min=1, max=60))
    applicant_id_number = fields.String(allow_none=True, validate=validate.Length(max=18))
    applicant_phone = fields.String(allow_none=True, validate=validate.Length(max=20))
    applicant_region_code = fields.String(allow_none=True, validate=validate.Length(max=12))
    applicant_gender = fields.String(allow_none=True)
    applicant_ethnicity = fields.String(allow_none=True, validate=validate.Length(max=20))
    applicant_address = fields.String(allow_none=True, validate=validate.Length(max=200))
    applicant_occupation = fields.String(allow_none=True, validate=validate.Length(max=60))
    matter_category = fields.String(required=True, validate=validate.Length(max=40))
    matter_region_code = fields.String(required=True, validate=validate.Length(max=12))
    hardship = fields.String(required=True, validate=validate.Length(max=20))
    exempt_group = fields.String(allow_none=True, validate=validate.Length(max=40))
    summary = fields.String(required=True, validate=validate.Length(min=1, max=5000))
    filed_on = fields.Date(required=True)


class LegalAidDecidedV1(Schema):
    """``legal_aid.decided``: the competent centre's decision fed back to the hub the application came from."""

    application_id = fields.Integer(required=True, strict=True)  # the forwarding hub's id
    status = fields.String(required=True, validate=validate.Length(max=20))
    decided_on = fields.Date(required=True)
    granted = fields.Boolean(required=True)
    refusal_reason = fields.String(allow_none=True, validate=validate.Length(max=2000))
    centre = fields.String(allow_none=True, validate=validate.Length(max=120))


# (type, version) -> the payload's schema. A new version is a new entry; old ones stay while peers send them.
TYPES: dict[tuple[str, int], type[Schema]] = {
    ("directory.snapshot", 1): DirectorySnapshotV1,
    ("transfer.offered", 1): TransferOfferedV1,
    ("transfer.answered", 1): TransferAnsweredV1,
    ("case.handover", 1): CaseHandoverV1,
    ("case.outcome", 1): CaseOutcomeV1,
    ("legal_aid.forwarded", 1): LegalAidForwardedV1,
    ("legal_aid.decided", 1): LegalAidDecidedV1,
}
CURRENT_VERSION = {name: max(v for n, v in TYPES if n == name) for name, _ in TYPES}


class EnvelopeSchema(Schema):
    """What every message is: who sends it to whom, where it stands in its conversation, and its payload."""

    class Meta:
        unknown = RAISE

    id = fields.String(required=True, validate=validate.Regexp(r"^msg_[A-Za-z0-9]{8,36}$"))
    type = fields.String(required=True, validate=validate.Length(min=1, max=40))
    version = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    sent_at = fields.DateTime(required=True)
    from_hub = fields.String(required=True, validate=HUB_ID)
    to_hub = fields.String(required=True, validate=HUB_ID)
    conversation_id = fields.String(required=True, validate=validate.Length(min=1, max=80))
    sequence = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    payload = fields.Dict(required=True)


class TypeSchema(Schema):
    type = fields.String()
    version = fields.Integer()
    schema = fields.String(metadata={"description": "the component's name in this document"})


class ReceiptSchema(Schema):
    """The inbox's answer: ``applied``, ``held`` (waiting for an earlier message of its conversation) or
    ``duplicate`` (stored before: applied zero more times)."""

    id = fields.String()
    status = fields.String()
