"""A marshmallow field for a code of a reference list that also takes the list's Chinese name."""

from __future__ import annotations

from marshmallow import fields

from .lists import codes, resolve


class CodeOrName(fields.String):
    """Loads a code of ``list_name`` given as the code or as its Chinese name; documented as an enum of the codes.

    A value that names nothing on the list is passed on unchanged, so the service refuses it with the same field
    message as the page and the import."""

    def __init__(self, list_name: str, **kwargs):
        self.list_name = list_name
        metadata = dict(kwargs.pop("metadata", {}) or {})
        metadata.setdefault("enum", codes(list_name))
        note = f"a code of GET /api/v1/reference/{list_name}; its Chinese name is accepted too"
        metadata["description"] = f"{metadata['description']} ({note})" if metadata.get("description") else note
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        return resolve(self.list_name, text) or text
