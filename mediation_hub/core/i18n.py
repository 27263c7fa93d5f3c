"""Chinese by default (zh_Hans_CN); English when the user picks it (?lang=en, remembered in the session)."""

from flask import Flask, request, session
from flask_babel import get_locale

from ..extensions import babel


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
