"""The actor of the current request: from the bearer token (API) or the signed-in session (pages).

Only views use this; services receive the actor as an argument."""

from __future__ import annotations

from flask import g
from flask_login import current_user

from ..core.actor import Actor


def current_actor() -> Actor:
    actor = getattr(g, "actor", None)
    if actor is not None:
        return actor
    if current_user.is_authenticated:
        g.actor = current_user.to_actor()
        return g.actor
    raise RuntimeError("current_actor() called on an unauthenticated request")
