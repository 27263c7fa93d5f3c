"""Shapes of the calendar API: the years with their status and source, and a year's notice."""

from marshmallow import Schema, fields, validate


class CalendarYearOut(Schema):
    year = fields.Integer(required=True)
    status = fields.String(
        required=True,
        validate=validate.OneOf(["official", "provisional"]),
        metadata={
            "description": "official: the State Council's notice (or an administrator's "
            "correction); provisional: computed from the holiday law"
        },
    )
    source = fields.String(required=True)
    source_version = fields.String(allow_none=True)
    loaded_by = fields.String(allow_none=True, metadata={"description": "the administrator who loaded it"})
    loaded_at = fields.DateTime(required=True)


class CalendarYearList(Schema):
    items = fields.List(fields.Nested(CalendarYearOut), required=True)


class CalendarYearIn(Schema):
    holidays = fields.List(
        fields.Date(), load_default=list, metadata={"description": "the notice's rest days (ISO dates) within the year"}
    )
    workdays = fields.List(
        fields.Date(), load_default=list, metadata={"description": "the notice's 调休 make-up workdays (ISO dates)"}
    )
    source = fields.String(
        load_default="",
        validate=validate.Length(max=80),
        metadata={"description": "the notice, e.g. 国务院办公厅关于2027年部分节假日安排的通知"},
    )


class DeadlineMoveOut(Schema):
    subject = fields.String(required=True, metadata={"description": "case, transfer or legal_aid"})
    subject_id = fields.Integer(required=True)
    number = fields.String(required=True)
    field = fields.String(required=True)
    previous = fields.Date(required=True)
    deadline = fields.Date(required=True, attribute="day")
    provisional = fields.Boolean(required=True)


class CalendarYearLoaded(CalendarYearOut):
    days_changed = fields.List(
        fields.Date(), required=True, metadata={"description": "days whose working or rest status changed"}
    )
    deadlines_moved = fields.List(
        fields.Nested(DeadlineMoveOut),
        required=True,
        metadata={"description": "open deadlines moved later (none moves earlier)"},
    )
