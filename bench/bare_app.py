"""The baseline for bench/http_load.py: a bare Flask + Flask-SQLAlchemy + marshmallow app doing the same read
and the same insert as the hub's ``GET /api/v1/cases/<id>`` and ``POST /api/v1/cases``, without the hub around
them (no authentication, scope, rules, numbering counter, duplicate check, audit, rate limits, aggregates).

    gunicorn -w 2 bench.bare_app:app     (reads MEDIATION_HUB_DATABASE_URL and the PII keys, like the hub)

GET /hello       the hello-world of the same stack: plain text, no database (the ceiling of gunicorn + Flask on
                 this machine, which bench/http_load.py measures every endpoint against).
GET /cases/<id>  loads the case with its organisation, category, source, mediators, parties, sessions and
                 follow-ups (with the hub's own loader options) and dumps the same fields (parties masked).
POST /cases      validates the same shape with marshmallow, then inserts the case, its parties (ID number and
                 phone encrypted, masked and hashed with the hub's own mixin) and the ``registered`` event.
"""

from __future__ import annotations

import os
import uuid
from datetime import date

import sqlalchemy as sa
from flask import Flask, abort, request
from marshmallow import Schema, ValidationError, fields, validate

from mediation_hub import import_models
from mediation_hub.extensions import db

import_models()

from mediation_hub.cases.models import Case, CaseEvent, Party, PartyKind, PartyRole  # noqa: E402
from mediation_hub.cases.service import DETAIL_LOADING  # noqa: E402

# The bare app writes rows, nothing else: it inserts the event row itself, so the hub's listeners of case events
# (the rate aggregates) are not part of it.


class PartyIn(Schema):
    role = fields.Enum(PartyRole, by_value=True, required=True)
    kind = fields.Enum(PartyKind, by_value=True, load_default=PartyKind.person)
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    id_number = fields.String(load_default=None, allow_none=True)
    phone = fields.String(load_default=None, allow_none=True)
    region_code = fields.String(load_default=None, allow_none=True)


class CaseIn(Schema):
    organization_id = fields.Integer(required=True)
    category = fields.String(required=True)
    source = fields.String(required=True)
    summary = fields.String(required=True, validate=validate.Length(min=1, max=5000))
    received_on = fields.Date(load_default=None)
    occurred_region_code = fields.String(required=True)
    amount_yuan = fields.Decimal(load_default=None, allow_none=True)
    major = fields.Boolean(load_default=False)
    parties = fields.List(fields.Nested(PartyIn), required=True, validate=validate.Length(min=1, max=50))


class PartyOut(Schema):
    id = fields.Integer()
    position = fields.Integer()
    role = fields.Enum(PartyRole, by_value=True)
    kind = fields.Enum(PartyKind, by_value=True)
    name = fields.String()
    id_number = fields.String(attribute="id_number_masked")
    phone = fields.String(attribute="phone_masked", allow_none=True)
    region_code = fields.String(allow_none=True)


class SessionOut(Schema):
    id = fields.Integer()
    held_on = fields.Date()
    summary = fields.String()
    mediator_id = fields.Integer(allow_none=True)


class FollowUpOut(Schema):
    id = fields.Integer()
    visited_on = fields.Date()
    summary = fields.String()
    performed = fields.Boolean(allow_none=True)


class CaseOut(Schema):
    id = fields.Integer()
    number = fields.String()
    status = fields.String(attribute="status.value")
    outcome = fields.String(attribute="outcome.value", allow_none=True)
    organization_id = fields.Integer()
    organization_name = fields.Function(lambda c: c.organization.name)
    studio_id = fields.Integer(allow_none=True)
    category = fields.String(attribute="category_code")
    category_name = fields.Function(lambda c: c.category.name)
    source = fields.String(attribute="source_code")
    source_name = fields.Function(lambda c: c.source.name)
    summary = fields.String()
    received_on = fields.Date()
    occurred_region_code = fields.String()
    amount_yuan = fields.Decimal(places=2, as_string=True, allow_none=True)
    accepted_on = fields.Date(allow_none=True)
    due_on = fields.Date(allow_none=True)
    concluded_on = fields.Date(allow_none=True)
    cross_region = fields.Boolean()
    major = fields.Boolean()
    mediator_ids = fields.Function(lambda c: [m.mediator_id for m in c.mediators])
    parties = fields.List(fields.Nested(PartyOut))
    sessions = fields.List(fields.Nested(SessionOut))
    follow_ups = fields.List(fields.Nested(FollowUpOut))
    version = fields.Integer()


def create_bare_app() -> Flask:
    app = Flask(__name__)
    app.config.update(
        SQLALCHEMY_DATABASE_URI=os.environ["MEDIATION_HUB_DATABASE_URL"],
        PII_KEY=os.environ["MEDIATION_HUB_PII_KEY"],
        LOOKUP_KEY=os.environ["MEDIATION_HUB_LOOKUP_KEY"],
        SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True},
    )
    db.init_app(app)
    case_out, case_in = CaseOut(), CaseIn()

    def load(case_id: int) -> Case | None:  # the same loading as the hub's case detail
        return db.session.scalar(sa.select(Case).where(Case.id == case_id).options(*DETAIL_LOADING))

    @app.get("/hello")
    def hello():
        return "Hello, World!", 200, {"Content-Type": "text/plain; charset=utf-8"}

    @app.get("/cases/<int:case_id>")
    def get_case(case_id: int):
        case = load(case_id)
        if case is None:
            abort(404)
        return case_out.dump(case)

    @app.post("/cases")
    def post_case():
        try:
            data = case_in.load(request.get_json())
        except ValidationError as exc:
            return {"errors": exc.messages}, 422
        received_on = data["received_on"] or date.today()
        case = Case(
            number=f"BARE-{uuid.uuid4().hex[:20]}",
            organization_id=data["organization_id"],
            category_code=data["category"],
            source_code=data["source"],
            summary=data["summary"],
            received_on=received_on,
            occurred_region_code=data["occurred_region_code"],
            amount_yuan=data["amount_yuan"],
            major=data["major"],
            last_step_on=received_on,
        )
        for position, values in enumerate(data["parties"]):
            party = Party(
                position=position,
                role=values["role"],
                kind=values["kind"],
                name=values["name"],
                region_code=values["region_code"],
            )
            party.set_id_number(values["id_number"])
            party.set_phone(values["phone"])
            case.parties.append(party)
        db.session.add(case)
        db.session.flush()
        org = case.organization
        db.session.add(
            CaseEvent(
                case_id=case.id,
                code="registered",
                on_date=received_on,
                organization_id=org.id,
                region_code=org.region_code,
                actor_name="bare",
                data={"number": case.number},
            )
        )
        db.session.commit()
        return case_out.dump(load(case.id)), 201

    return app


app = create_bare_app() if "MEDIATION_HUB_DATABASE_URL" in os.environ else None
