"""The language of an answer: Chinese by default (zh_Hans_CN), English when asked for.

- Pages: ``?lang=en`` (or ``?lang=zh_Hans_CN``) switches, and the choice is remembered in the session.
- The JSON API (``/api/``): the client's ``Accept-Language`` (its best match among LANGUAGES; none matching:
  Chinese); ``?lang=`` there too, for that request only (an API client has no session). API answers say
  ``Content-Language`` and ``Vary: Accept-Language``; pages say ``Content-Language``.
"""

from flask import Flask, Response, current_app, has_request_context, request, session
from flask_babel import get_locale, refresh

from ..extensions import babel

# Accept-Language tags (lower case, by prefix) that mean each catalogue
LANGUAGE_TAGS = {"zh_Hans_CN": ("zh",), "en": ("en",)}


def N_(message: str) -> str:  # the marker name pybabel extracts by default
    """Mark a string for extraction where it is defined; it is translated with ``_()`` where it is shown."""
    return message


def _api_request() -> bool:
    return request.path.startswith("/api/")


def _known(wanted: str | None, languages: list[str]) -> str | None:
    """``wanted`` as one of LANGUAGES (``en``, ``en-US``, ``zh``, ``zh-CN``, ``zh_Hans_CN`` …), or None."""
    if not wanted:
        return None
    tag = wanted.strip().replace("-", "_").lower()
    for language in languages:
        if tag == language.lower() or any(
            tag == prefix or tag.startswith(prefix + "_") for prefix in LANGUAGE_TAGS.get(language, ())
        ):
            return language
    return None


def accepted_language(languages: list[str]) -> str | None:
    """The best match of the request's Accept-Language among LANGUAGES, by the client's quality order."""
    for tag, _quality in request.accept_languages:  # highest quality first
        language = _known(tag, languages)
        if language:
            return language
    return None


def select_locale() -> str:
    languages: list[str] = current_app.config["LANGUAGES"]
    default: str = current_app.config["BABEL_DEFAULT_LOCALE"]
    if not has_request_context():  # a job, the CLI, a service called from a test: the default language
        return default
    wanted = _known(request.args.get("lang"), languages)
    if _api_request():
        return wanted or accepted_language(languages) or default
    if wanted:
        session["lang"] = wanted
    return _known(session.get("lang"), languages) or default


def _content_language(response: Response) -> Response:
    """Say which language the answer is in (API answers vary with Accept-Language)."""
    if request.path.startswith("/static/"):
        return response
    locale = str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])
    response.headers.setdefault("Content-Language", "en" if locale.startswith("en") else "zh-CN")
    if _api_request():
        response.vary.add("Accept-Language")
    return response


def init_i18n(app: Flask) -> None:
    babel.init_app(
        app, locale_selector=select_locale, default_translation_directories=str(app.root_path + "/translations")
    )
    app.jinja_env.globals["get_locale"] = get_locale
    # The locale is cached on ``g``; choose it afresh for every request, also when a request reuses an
    # application context that is already pushed (CLI, tests, a request inside a job); first of all, so an
    # answer given by an earlier before-request check (a 413, a 401) is in the request's language too.
    app.before_request_funcs.setdefault(None, []).insert(0, refresh)
    app.after_request(_content_language)
