"""Server-rendered pages: sign-in, navigation by role, and each domain's views blueprint."""

from __future__ import annotations

import importlib
from collections.abc import Collection

from flask import Flask, g, redirect, request, send_from_directory, url_for
from flask_login import current_user

from .agreements.policy import POLICY as AGREEMENTS
from .audit.policy import POLICY as AUDIT
from .auth.policy import POLICY as AUTH
from .calendars.policy import POLICY as CALENDARS
from .core.actor import Role
from .core.i18n import N_
from .extensions import login
from .federation.policy import POLICY as FEDERATION
from .imports.policy import POLICY as IMPORTS
from .privacy.policy import POLICY as PRIVACY
from .regions.policy import POLICY as REGIONS
from .reporting.policy import POLICY as REPORTING

VIEW_MODULES = (
    "auth.views",
    "registry.views",
    "regions.views",
    "agreements.views",
    "cases.views",
    "transfers.views",
    "legal_aid.views",
    "reporting.views",
    "notifications.views",
    "calendars.views",
    "privacy.views",
    "imports.views",
    "audit.views",
    "exports.views",
    "documents.views",
    "federation.views",
)
PUBLIC_ENDPOINTS = {"static", "favicon", "auth.login", "api_docs.api_docs"}

# (label, endpoint, roles shown to); the layout shows the entries whose endpoint exists, label translated. An
# entry that is an action reads its roles from the package's policy (the page refuses the others the same way);
# the lists are shown to the roles whose work they hold (every role may open them). 登记纠纷 keeps its own roles:
# the cases policy lets a legal-aid officer register too, but only for a mediation organisation, which a
# legal-aid centre is not (the form refuses it on the organisation).
NAVIGATION: list[tuple[str, str, Collection[Role] | None]] = [
    (N_("工作台"), "home", None),
    (N_("案件"), "cases.case_list", (Role.mediator, Role.coordinator, Role.admin)),
    (N_("登记纠纷"), "cases.register_case", (Role.mediator, Role.admin)),
    (N_("导入案件"), "imports.import_upload", IMPORTS.roles("import_cases")),
    (N_("转办"), "transfers.queue", (Role.mediator, Role.coordinator, Role.admin)),
    (N_("法律援助"), "legal_aid.application_list", (Role.legal_aid_officer, Role.coordinator, Role.admin)),
    (N_("统计看板"), "reporting.dashboard", REPORTING.roles("see_dashboard")),
    (N_("协议"), "agreements.agreement_list", AGREEMENTS.roles("keep")),
    (N_("组织机构"), "registry.organization_list", (Role.registry_admin, Role.admin, Role.coordinator)),
    (N_("调解员"), "registry.mediator_list", (Role.registry_admin, Role.admin, Role.coordinator, Role.mediator)),
    (N_("调解工作室"), "registry.studio_list", None),
    (N_("工作日历"), "calendar.calendar_years", CALENDARS.roles("maintain")),
    (N_("乡镇和村"), "regions.places", REGIONS.roles("maintain_places")),
    (N_("个人信息请求"), "privacy.person_request", PRIVACY.roles("person_request")),
    (N_("账户"), "auth.user_list", AUTH.roles("manage_accounts")),
    (N_("审计日志"), "audit.audit_log", AUDIT.roles("read_log")),
    (N_("平台互联"), "federation.overview", FEDERATION.roles("manage")),
    (N_("通知"), "notifications.notification_list", None),
]


@login.user_loader
def _load_user(user_id: str):
    from .auth.browser import load_user

    return load_user(user_id)  # only while the browser's server-side session is live


def _require_sign_in():
    if request.path.startswith("/api/") or request.endpoint in PUBLIC_ENDPOINTS or request.endpoint is None:
        return None
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.full_path if request.query_string else request.path))
    g.actor = current_user.to_actor()
    from .auth.browser import note_activity

    note_activity()
    return None


def navigation_for(app: Flask, role: Role) -> list[tuple[str, str]]:
    endpoints = set(app.view_functions)
    return [
        (label, endpoint)
        for label, endpoint, roles in NAVIGATION
        if endpoint in endpoints and (roles is None or role in roles)
    ]


def _fresh_request_state():
    """Per-request identity starts empty, even where requests share an application context (tests)."""
    g.pop("_login_user", None)
    g.pop("actor", None)
    g.pop("user_session", None)


def register_web(app: Flask) -> None:
    login.login_view = "auth.login"
    login.session_protection = "strong"
    app.before_request(_fresh_request_state)
    for name in VIEW_MODULES:  # a missing module fails the start
        app.register_blueprint(importlib.import_module(f"{__package__}.{name}").bp)
    app.before_request(_require_sign_in)

    @app.get("/")
    def home():
        from .home import render_home

        return render_home()

    @app.context_processor
    def _layout_context():
        nav = navigation_for(app, current_user.role) if current_user.is_authenticated else []
        return {"navigation": nav, "Role": Role}

    @app.get("/favicon.ico")
    def favicon():
        """Browsers ask for /favicon.ico whatever the page links: the icon, not a 404 in every log."""
        return send_from_directory(
            app.static_folder, "favicon.ico", mimetype="image/vnd.microsoft.icon", max_age=7 * 24 * 3600
        )

    from .core import filters

    filters.register(app)
