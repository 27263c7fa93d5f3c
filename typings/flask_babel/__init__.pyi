"""Flask-Babel 4, the part the hub uses."""

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from babel import Locale
from flask import Flask

class Babel:
    def __init__(
        self,
        app: Flask | None = None,
        date_formats: dict[str, str | None] | None = None,
        configure_jinja: bool = True,
        *args: Any,
        **kwargs: Any,
    ) -> None: ...
    def init_app(
        self,
        app: Flask,
        default_locale: str = "en",
        default_domain: str = "messages",
        default_translation_directories: str = "translations",
        default_timezone: str = "UTC",
        locale_selector: Callable[[], str | None] | None = None,
        timezone_selector: Callable[[], str | None] | None = None,
    ) -> None: ...

def get_locale() -> Locale | None: ...
def refresh() -> None: ...
def force_locale(locale: str) -> AbstractContextManager[None]: ...
def gettext(string: str, **variables: Any) -> str: ...
def ngettext(singular: str, plural: str, num: int, **variables: Any) -> str: ...

# A LazyString, translated each time it is shown: it stands wherever text is taken (WTForms labels and messages,
# marshmallow metadata), which a str return type would misstate and a LazyString one would refuse.
def lazy_gettext(string: str, **variables: Any) -> Any: ...
def __getattr__(name: str) -> Any: ...
