"""Forms without a CSRF token of their own (a fieldset inside a FlaskForm, a GET filter) that still speak the
request's language: WTForms' own messages ("Not a valid choice.", "This field is required.") come from its
catalogue in the locale of the request, as FlaskForm's do."""

from __future__ import annotations

from flask_wtf.i18n import translations
from wtforms import Form


class TranslatedForm(Form):
    """A plain WTForms form whose built-in messages follow the request's locale (Chinese by default)."""

    class Meta:
        def get_translations(self, form: Form) -> object:
            return translations
