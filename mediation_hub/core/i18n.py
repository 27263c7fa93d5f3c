"""Chinese by default (zh_Hans_CN); English when the user picks it (?lang=en, remembered in the session)."""

from flask import Flask, request, session
from flask_babel import get_locale, refresh

from ..extensions import babel


def N_(message: str) -> str:  # the marker name pybabel extracts by default
    """Mark a string for extraction where it is defined; it is translated with ``_()`` where it is shown."""
    return message


def select_locale() -> str:
    from flask import current_app

    wanted = request.args.get("lang")
    languages = current_app.config["LANGUAGES"]
    if wanted in languages:
        session["lang"] = wanted
    return session.get("lang") or current_app.config["BABEL_DEFAULT_LOCALE"]


def init_i18n(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale,
                   default_translation_directories=str(app.root_path + "/translations"))
    app.jinja_env.globals["get_locale"] = get_locale
    # The locale is cached on ``g``; choose it afresh for every request, also when a request reuses an
    # application context that is already pushed (CLI, tests, a request inside a job).
    app.before_request(refresh)
