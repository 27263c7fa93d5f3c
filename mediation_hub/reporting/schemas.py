"""Shapes of report queries and answers, subscriptions, deliveries and snapshots."""

from typing import TYPE_CHECKING

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ..core.messages import coded
from ..core.pagination import PageArgs, page_schema
from ..core.shanghai import today_shanghai
from .models import DeliveryStatus, Frequency
from .queries import BASES, COUNT_FIELDS
from .service import GROUPINGS, RATES, default_period

# The counts and rates of a RateBlock are the service's own lists, so an answer never leaves one out.
COUNTS = COUNT_FIELDS
RATE_NAMES = tuple(RATES)
BASIS_DESCRIPTION = (
    "handled (承办): each event counts where the case was handled then; occurred (属地): where the dispute arose, "
    "whoever handled it (region scopes only). Default: occurred for a governance centre's people, else handled"
)


class PeriodArgs(Schema):
    date_from = fields.Date(data_key="from", load_default=None)
    date_to = fields.Date(data_key="to", load_default=None)

    @validates_schema
    def _period_in_order(self, data, **_kwargs):
        """A period that ends before it starts is the query's fault: a 422 filed under ``query``, field ``to``
        (the defaults filled in as the report fills them: to = today, from = 1 January of to's year)."""
        date_from, date_to = default_period(data.get("date_from"), data.get("date_to"))
        if date_to < date_from:
            raise ValidationError(
                {
                    "to": [
                        coded(
                            "period_reversed",
                            "结束日期 %(end)s 早于开始日期 %(start)s",
                            end=date_to.isoformat(),
                            start=date_from.isoformat(),
                        )
                    ]
                }
            )


class RatesQuery(PeriodArgs):
    region_code = fields.String(load_default=None, validate=validate.Length(max=12))
    organization_id = fields.Integer(load_default=None)
    studio_id = fields.Integer(load_default=None)
    as_of = fields.Date(load_default=None)
    group_by = fields.String(load_default=None, validate=validate.OneOf(GROUPINGS))
    basis = fields.String(
        load_default=None, validate=validate.OneOf(BASES), metadata={"description": BASIS_DESCRIPTION}
    )
    format = fields.String(load_default="json", validate=validate.OneOf(("json", "xlsx", "csv")))

    @validates_schema
    def _as_of_not_before_the_period(self, data, **_kwargs):
        """``as_of`` (default today) before the period's start: a 422 filed under ``query``, field ``as_of``."""
        date_from, _date_to = default_period(data.get("date_from"), data.get("date_to"))
        as_of = data.get("as_of") or today_shanghai()
        if as_of < date_from:
            raise ValidationError(
                {
                    "as_of": [
                        coded(
                            "as_of_before_from",
                            "统计截止日 %(as_of)s 早于开始日期 %(start)s",
                            as_of=as_of.isoformat(),
                            start=date_from.isoformat(),
                        )
                    ]
                }
            )


class FlowsQuery(PeriodArgs):
    region_code = fields.String(load_default=None, validate=validate.Length(max=12))
    organization_id = fields.Integer(load_default=None)


class OverdueQuery(Schema):
    region_code = fields.String(load_default=None, validate=validate.Length(max=12))
    organization_id = fields.Integer(load_default=None)
    as_of = fields.Date(load_default=None)


class RateDetail(Schema):
    value = fields.Float(allow_none=True)
    numerator = fields.Integer()
    denominator = fields.Integer()


if TYPE_CHECKING:  # a class built at run time (one field per count and rate): mypy sees a Schema
    RateBlock = Schema
else:
    RateBlock = Schema.from_dict(
        {
            **{name: fields.Integer() for name in COUNTS},
            **{name: fields.Float(allow_none=True) for name in RATE_NAMES},
            "rate_details": fields.Dict(keys=fields.String(), values=fields.Nested(RateDetail)),
        },
        name="RateBlock",
    )


class RateGroup(RateBlock):
    key = fields.Raw()
    label = fields.String()


class ReportScope(Schema):
    region_code = fields.String(allow_none=True)
    region_name = fields.String(allow_none=True)
    organization_id = fields.Integer(allow_none=True)
    organization_name = fields.String(allow_none=True)
    studio_id = fields.Integer(allow_none=True)
    studio_name = fields.String(allow_none=True)


class CaseFlows(Schema):
    """The flows that reconcile a report (DESIGN.md "Rates"): open_at_start + registered + transferred_in −
    transferred_out = concluded + declined + open_at_end."""

    open_at_start = fields.Integer(metadata={"description": "open at the end of the day before from"})
    registered = fields.Integer()
    transferred_in = fields.Integer(metadata={"description": "handed in across the scope's boundary; 0 (occurred)"})
    transferred_out = fields.Integer(metadata={"description": "handed out across the boundary; 0 (occurred)"})
    concluded = fields.Integer()
    declined = fields.Integer()
    open_at_end = fields.Integer(metadata={"description": "open at counted_to"})


COUNTED_TO = "the last day counted: the earlier of to and as_of"


class RatesReportOut(Schema):
    scope = fields.Nested(ReportScope)
    basis = fields.String(metadata={"description": BASIS_DESCRIPTION})
    from_ = fields.Date(data_key="from", attribute="from")
    to = fields.Date()
    as_of = fields.Date()
    counted_to = fields.Date(metadata={"description": COUNTED_TO})
    group_by = fields.String(allow_none=True)
    totals = fields.Nested(RateBlock)
    groups = fields.List(fields.Nested(RateGroup))
    case_flows = fields.Nested(CaseFlows)


class FlowsOut(Schema):
    scope = fields.Nested(ReportScope)
    from_ = fields.Date(data_key="from", attribute="from")
    to = fields.Date()
    counted_to = fields.Date(
        metadata={"description": "the earlier of to and today: transfers sent up to it, answers as they stand"}
    )
    flows = fields.Raw(allow_none=True, metadata={"description": "sent, received, outgoing, incoming, pairs"})
    legal_aid = fields.Raw(allow_none=True)


class OverdueCaseOut(Schema):
    case_id = fields.Integer()
    number = fields.String()
    category = fields.String()
    status = fields.String()
    due_on = fields.Date()
    due_on_provisional = fields.Boolean(metadata={"description": "counted over a provisional calendar year"})
    days_overdue = fields.Integer()
    organization_id = fields.Integer()
    organization_name = fields.String()


class OverdueTransferOut(Schema):
    transfer_id = fields.Integer()
    case_id = fields.Integer()
    respond_by = fields.Date()
    respond_by_provisional = fields.Boolean(metadata={"description": "counted over a provisional calendar year"})
    days_overdue = fields.Integer()
    mode = fields.String()
    from_name = fields.String()
    to_name = fields.String()


class OverdueOut(Schema):
    scope = fields.Nested(ReportScope)
    as_of = fields.Date()
    case_count = fields.Integer()
    cases = fields.List(fields.Nested(OverdueCaseOut))
    transfers = fields.List(fields.Nested(OverdueTransferOut))


class SubscriptionIn(Schema):
    organization_id = fields.Integer(required=True)
    region_code = fields.String(required=True, validate=validate.Length(max=12))
    frequency = fields.String(required=True, validate=validate.OneOf([f.value for f in Frequency]))
    # The service checks the destination (https, a public address or the allow list) and says why it refuses one.
    endpoint_url = fields.String(
        required=True,
        validate=validate.Length(min=1, max=500),
        metadata={"format": "uri", "description": "https://…, a globally routable host"},
    )
    secret = fields.String(
        load_default=None,
        validate=validate.Length(max=200),
        metadata={"description": "whsec_<base64>; generated when omitted"},
    )
    basis = fields.String(
        load_default=None,
        validate=validate.OneOf(BASES),
        metadata={
            "description": "the basis of every snapshot: occurred (属地) or handled (承办); when omitted, occurred "
            "for a governance centre, else handled"
        },
    )
    active = fields.Boolean(load_default=True)


class SubscriptionPatch(Schema):
    active = fields.Boolean(required=True)


class SubscriptionOut(Schema):
    id = fields.Integer()
    organization_id = fields.Integer()
    organization_name = fields.Function(lambda s: s.organization.name)
    region_code = fields.String()
    region_name = fields.Function(lambda s: s.region.full_name)
    frequency = fields.Function(lambda s: s.frequency.value)
    basis = fields.String(metadata={"description": "occurred (属地) or handled (承办)"})
    endpoint_url = fields.String()
    active = fields.Boolean()
    created_at = fields.DateTime()


class SubscriptionCreatedOut(SubscriptionOut):
    secret = fields.String(attribute="secret_once", metadata={"description": "the signing secret, shown only now"})


class SubscriptionQuery(PageArgs):
    pass


class AttemptOut(Schema):
    at = fields.DateTime()
    succeeded = fields.Boolean()
    status_code = fields.Integer(allow_none=True)
    error = fields.String(allow_none=True)
    duration_ms = fields.Integer()


class DeliveryOut(Schema):
    id = fields.Integer()
    snapshot_id = fields.Integer()
    subscription_id = fields.Function(lambda d: d.snapshot.subscription_id)
    period_start = fields.Function(lambda d: d.snapshot.period_start.isoformat())
    period_end = fields.Function(lambda d: d.snapshot.period_end.isoformat())
    status = fields.Function(lambda d: d.status.value)
    attempts = fields.Integer()
    next_attempt_at = fields.DateTime(allow_none=True)
    last_error = fields.String(allow_none=True)
    delivered_at = fields.DateTime(allow_none=True)
    attempt_log = fields.List(fields.Nested(AttemptOut))


class DeliveryQuery(PageArgs):
    status = fields.String(load_default=None, validate=validate.OneOf([s.value for s in DeliveryStatus]))
    subscription_id = fields.Integer(load_default=None)


class SnapshotSummaryOut(Schema):
    id = fields.Integer()
    subscription_id = fields.Integer()
    period_start = fields.Date()
    period_end = fields.Date()
    # Read from the frozen payload, which says what it counted: a snapshot frozen before the payload named its
    # basis was counted on the handled one, up to the period's end.
    basis = fields.Function(
        lambda s: s.payload.get("basis", "handled"),
        metadata={"type": "string", "description": "the basis the snapshot was counted on"},
    )
    counted_to = fields.Function(
        lambda s: s.payload.get("counted_to") or s.period_end.isoformat(),
        metadata={"type": "string", "format": "date", "description": COUNTED_TO},
    )
    created_at = fields.DateTime()


class SnapshotOut(SnapshotSummaryOut):
    payload = fields.Dict()


SubscriptionPage = page_schema(SubscriptionOut, "ReportSubscriptionPage")
DeliveryPage = page_schema(DeliveryOut, "ReportDeliveryPage")
SnapshotPage = page_schema(SnapshotSummaryOut, "ReportSnapshotPage")
