"""Sign-in limits per account and address together (issue 13 point 8): an office behind one NAT address cannot
lock itself out by one person's mistakes, a generous per-address ceiling still stops spraying, and every refusal
says in Chinese when to try again."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine

from mediation_hub.extensions import db, limiter
from tests.factories import PASSWORD

OFFICE = "10.20.30.40"  # one NAT address for a whole county office
TOKEN_URL = "/api/v1/auth/token"
FAILED = {"page": 422, "api": 401}
SIGNED_IN = {"page": 302, "api": 201}


@pytest.fixture
def production_limits(app, monkeypatch):
    """The production defaults (the suite's app raises them for its thousands of sign-ins)."""
    for key, value in {
        "LOGIN_RATE_LIMIT": "10 per minute",
        "LOGIN_ADDRESS_RATE_LIMIT": "100 per minute",
        "LOGIN_LOCK_AFTER": 5,
        "LOGIN_LOCK_MINUTES": 1,
        "LOGIN_LOCK_MAX_MINUTES": 30,
        "LOGIN_LOCK_MEMORY_HOURS": 24,
    }.items():
        monkeypatch.setitem(app.config, key, value)


@pytest.fixture
def clock():
    """2026-12-07 09:00:00 in Shanghai (01:00 UTC), stopped; the limiter's windows emptied before and after."""
    limiter.reset()
    with time_machine.travel(datetime(2026, 12, 7, 1, 0, 0, tzinfo=UTC), tick=False) as traveller:
        yield traveller
    limiter.reset()


def attempt(client, via: str, username: str, password: str, address: str = OFFICE):
    environ = {"REMOTE_ADDR": address}
    if via == "page":
        return client.post("/login", data={"username": username, "password": password}, environ_base=environ)
    return client.post(TOKEN_URL, json={"username": username, "password": password}, environ_base=environ)


def message_of(response, via: str) -> str:
    return response.json["message"] if via == "api" else response.get_data(as_text=True)


@pytest.mark.parametrize("via", ["page", "api"])
def test_one_person_locked_the_colleague_at_the_same_address_signs_in(client, make_user, production_limits, clock, via):
    careless, colleague = make_user(), make_user()
    db.session.commit()
    assert [attempt(client, via, careless.username, "wrong").status_code for _ in range(5)] == [FAILED[via]] * 5

    locked = attempt(client, via, careless.username, PASSWORD)
    # Retry-After: the lock's 60 s, or the end of the limiter's minute window when later (it counts one more)
    assert locked.status_code == 429 and locked.headers["Retry-After"] in ("60", "61")
    # locked at 09:00:00 for one minute: try again at 09:01
    assert "登录失败次数过多，该账号已暂时锁定，请在 09:01 后再试（约 1 分钟）" in message_of(locked, via)
    if via == "api":
        assert locked.json["error"] == "sign_in_locked"

    assert attempt(client, via, colleague.username, PASSWORD).status_code == SIGNED_IN[via]


def test_under_a_minute_the_message_counts_seconds(client, make_user, production_limits, clock):
    careless = make_user()
    db.session.commit()
    for _ in range(5):
        attempt(client, "api", careless.username, "wrong")
    clock.shift(35)
    locked = attempt(client, "api", careless.username, PASSWORD)
    assert locked.status_code == 429
    assert locked.json["message"] == "登录失败次数过多，该账号已暂时锁定，请 25 秒后再试"
    clock.shift(25)
    assert attempt(client, "api", careless.username, PASSWORD).status_code == 201


def test_a_busy_morning_office_behind_one_address_all_sign_in(client, make_user, production_limits, clock):
    """Thirty colleagues sign in at 09:00 through one address while one of them mistypes twelve times: only
    that person waits (the old per-address budget of 10 a minute refused everyone after the tenth)."""
    careless = make_user()
    colleagues = [make_user() for _ in range(30)]
    db.session.commit()
    careless_statuses = [attempt(client, "page", careless.username, "wrong").status_code for _ in range(12)]
    assert careless_statuses == [422] * 5 + [429] * 7  # locked after five; the rest refused
    statuses = [
        attempt(client, via, c.username, PASSWORD).status_code
        for c, via in zip(colleagues, ["page", "api"] * 15, strict=True)
    ]
    assert statuses == [302, 201] * 15


def test_one_account_and_address_has_its_own_budget(client, make_user, production_limits, clock, app, monkeypatch):
    """Ten attempts a minute for one account from one address (the account lock set aside here): the eleventh
    waits and is told how long; the same account from another address and another account are not held up."""
    monkeypatch.setitem(app.config, "LOGIN_LOCK_AFTER", 1000)
    hammering, other = make_user(), make_user()
    db.session.commit()
    statuses = [attempt(client, "api", hammering.username, "wrong").status_code for _ in range(11)]
    assert statuses == [401] * 10 + [429]
    clock.shift(20)
    refused = attempt(client, "api", hammering.username, PASSWORD)
    # the window opened at 09:00:00 ends a minute later (the limiter counts one second more): 40 or 41 s left
    assert refused.status_code == 429
    assert refused.json["message"] in ("尝试过于频繁，请 40 秒后再试", "尝试过于频繁，请 41 秒后再试")
    assert attempt(client, "api", hammering.username, PASSWORD, address="10.20.30.41").status_code == 201
    assert attempt(client, "api", other.username, PASSWORD).status_code == 201
    clock.shift(41)
    assert attempt(client, "api", hammering.username, PASSWORD).status_code == 201


def test_the_address_ceiling_still_stops_spraying(client, make_user, production_limits, clock):
    """One address trying a hundred different names in a minute is stopped at the hundred-and-first attempt."""
    user = make_user()
    db.session.commit()
    statuses = [attempt(client, "api", f"sprayed-{n}", "password1").status_code for n in range(100)]
    assert statuses == [401] * 100
    assert attempt(client, "api", user.username, PASSWORD).status_code == 429
    assert attempt(client, "api", user.username, PASSWORD, address="10.20.30.41").status_code == 201


@pytest.mark.parametrize("budget", ["account_and_address", "address"])
def test_a_spent_budget_shows_the_sign_in_form_again(
    client, make_user, production_limits, clock, app, monkeypatch, budget
):
    """The page's answer to a spent budget is the sign-in form again (429, Retry-After), the username kept and
    the Chinese message saying when to retry: not the generic error page."""
    monkeypatch.setitem(app.config, "LOGIN_LOCK_AFTER", 1000)  # the account lock set aside: the budgets only
    user = make_user()
    db.session.commit()
    if budget == "account_and_address":  # ten a minute for one account from one address
        spent = [attempt(client, "page", user.username, "wrong").status_code for _ in range(10)]
    else:  # a hundred a minute from one address, whatever the names
        spent = [attempt(client, "page", f"sprayed-{n}", "password1").status_code for n in range(100)]
    assert set(spent) == {422}
    clock.shift(20)
    refused = attempt(client, "page", user.username, PASSWORD)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 429
    # the window opened at 09:00:00 ends a minute later (the limiter counts one second more): 40 or 41 s left
    assert refused.headers["Retry-After"] in ("40", "41")
    assert ("尝试过于频繁，请 40 秒后再试" in page) or ("尝试过于频繁，请 41 秒后再试" in page)
    assert 'action="/login"' in page or '<form method="post" class="form"' in page
    assert f'value="{user.username}"' in page  # the username kept
    assert 'name="password"' in page and "password1" not in page and PASSWORD not in page
    assert "10 per" not in page and "100 per" not in page


def test_the_password_change_page_shows_its_form_again_when_the_budget_is_spent(
    client, make_user, production_limits, clock, app, monkeypatch
):
    monkeypatch.setitem(app.config, "LOGIN_LOCK_AFTER", 1000)
    user = make_user()
    db.session.commit()
    assert attempt(client, "page", user.username, PASSWORD).status_code == 302
    # a password change counts under the signed-in account (no username is sent): ten wrong ones spend it
    form = {"current_password": "wrong", "new_password": "a-new-password-1", "new_password_again": "a-new-password-1"}
    environ = {"REMOTE_ADDR": OFFICE}
    statuses = [client.post("/account/password", data=form, environ_base=environ).status_code for _ in range(10)]
    assert statuses == [422] * 10
    refused = client.post("/account/password", data=form, environ_base=environ)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 429 and refused.headers["Retry-After"] in ("60", "61")
    minutes = {"60": 1, "61": 2}[refused.headers["Retry-After"]]  # a minute or more is said in whole minutes
    assert f"尝试过于频繁，请 {minutes} 分钟后再试" in page
    assert 'name="current_password"' in page
