"""The federation API: the inbox other hubs POST their signed messages to, and the published message schemas.

``POST /api/v1/federation/inbox`` takes no bearer token: the Standard Webhooks signature of a known peer is its
authentication (401 otherwise, 403 when addressed to another hub); 2xx only once the message is stored (and
applied, or held for its turn). The schema of every message type and version is in this document's components."""

from __future__ import annotations

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint

from . import service
from .protocol import TYPES, EnvelopeSchema, ReceiptSchema, TypeSchema

blp = Blueprint(
    "federation_api",
    __name__,
    url_prefix="/api/v1/federation",
    description="Messages between hubs (signed with Standard Webhooks headers; docs/FEDERATION.md)",
)
INBOX_PATH = "/api/v1/federation/inbox"
TYPES_PATH = "/api/v1/federation/types"


def schema_name(type_: str, version: int) -> str:
    """A payload schema's component name: ``transfer.offered`` v1 → ``FederationTransferOfferedV1``."""
    return "Federation" + "".join(part.capitalize() for part in type_.replace(".", "_").split("_")) + f"V{version}"


@blp.route("/inbox")
class Inbox(MethodView):
    @blp.doc(
        security=[],
        parameters=[
            {"in": "header", "name": name, "required": True, "schema": {"type": "string"}}
            for name in ("webhook-id", "webhook-timestamp", "webhook-signature")
        ],
        responses={"403": "FORBIDDEN", "422": "UNPROCESSABLE_ENTITY"},
        requestBody={
            "required": True,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/FederationEnvelope"}}},
        },
    )
    @blp.response(200, ReceiptSchema, description="stored and applied, or a duplicate (applied zero more times)")
    @blp.alt_response(202, schema=ReceiptSchema, description="stored and held until an earlier message arrives")
    def post(self):
        """Take a message from a peer hub (signed; no bearer token)."""
        receipt = service.receive(request.get_data(cache=False), {k.lower(): v for k, v in request.headers.items()})
        return {"id": receipt.id, "status": receipt.status}, 202 if receipt.status == "held" else 200


@blp.route("/types")
class Types(MethodView):
    @blp.doc(security=[])
    @blp.response(200, TypeSchema(many=True))
    def get(self):
        """The message types and versions this hub takes, each with its payload schema's component name."""
        return [{"type": t, "version": v, "schema": schema_name(t, v)} for (t, v) in sorted(TYPES)]


def register_schemas(spec) -> None:
    """Publish the envelope and every payload schema in the OpenAPI document."""
    spec.components.schema("FederationEnvelope", schema=EnvelopeSchema)
    for (type_, version), schema in TYPES.items():
        spec.components.schema(schema_name(type_, version), schema=schema)
