"""The glue between Flask's cookie session and the server-side session rows (``auth.sessions``), for the pages:
the user loader, starting a session after sign-in, ending it at sign-out, noting activity. View layer: this
module reads the request and the cookie, the services it calls do not."""

from __future__ import annotations

from flask import current_app, g, request, session

from ..core.uow import writing
from . import sessions
from .models import User

SESSION_KEY = "_hub_session"  # the clear session key, inside the signed Flask session cookie


def load_user(user_id: str) -> User | None:
    """Flask-Login's user loader: the account of a live server-side session named by this cookie, else None
    (the browser is then signed out, whatever else its cookie says)."""
    row = sessions.live_session(session.get(SESSION_KEY), user_id)
    g.user_session = row
    return row.user if row is not None else None


def begin(user: User) -> None:
    """Open a server-side session for ``user`` in this browser (after ``login_user``; the request commits it);
    the session this browser had before (a sign-in over a sign-in, a password change) is revoked."""
    sessions.revoke_session(session.get(SESSION_KEY))
    clear, _row = sessions.start_session(
        user,
        current_app.config["PERMANENT_SESSION_LIFETIME"],
        remote_addr=request.remote_addr,
        user_agent=request.user_agent.string,
    )
    session[SESSION_KEY] = clear


def end() -> None:
    """Revoke this browser's server-side session (before ``logout_user``) and forget its key."""
    sessions.end_session(session.pop(SESSION_KEY, None), remote_addr=request.remote_addr)


def note_activity() -> None:
    """Record that this browser's session is in use (at most once a minute). Runs before the view, so the
    only write its ``writing()`` block commits is its own."""
    row = g.get("user_session")
    if row is None or not sessions.touch_due(row):
        return
    with writing():
        sessions.touch_session(row)
