"""The landing page: each role goes to where its work is."""

from __future__ import annotations

from flask import current_app, redirect, render_template, url_for
from flask_login import current_user

from .auth.current import current_actor
from .calendars.views import provisional_banner
from .core.actor import Role

LANDING = {
    Role.mediator: "cases.worklist",
    Role.legal_aid_officer: "legal_aid.application_list",
    Role.coordinator: "reporting.dashboard",
    Role.registry_admin: "registry.organization_list",
}


def render_home():
    """Send each role to its work; the administrators' home also says which calendar year to load now."""
    endpoint = LANDING.get(current_user.role)
    if endpoint and endpoint in current_app.view_functions:
        return redirect(url_for(endpoint))
    return render_template("home.html", calendar_banner=provisional_banner(current_actor()))
