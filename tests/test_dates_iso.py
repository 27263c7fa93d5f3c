"""Dates as 2026-12-07 everywhere (issue 13 point 4): date fields are text inputs that show and take ISO dates
(``<input type="date">`` shows the browser's locale format: 12/07/2026 in Chromium even on a zh-CN page), the
server understands what a phone keyboard lets a person type, timestamps read 2026-12-07 14:30 in Asia/Shanghai,
and the days left to a deadline are said in words as well as colour."""

from __future__ import annotations

import importlib
import pkgutil
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import time_machine
import wtforms
from flask import g
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict

import mediation_hub
from mediation_hub.cases.models import CaseStatus
from mediation_hub.core.actor import Role
from mediation_hub.core.dates import DateField, parse_date
from mediation_hub.core.filters import days_until, local_time
from mediation_hub.core.messages import code_of
from mediation_hub.core.shanghai import SHANGHAI

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=SHANGHAI)  # Monday 2026-12-07
PACKAGE = Path(mediation_hub.__file__).parent


# --- what a person types --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "day"),
    [
        ("2026-12-07", date(2026, 12, 7)),
        ("2026-12-7", date(2026, 12, 7)),
        (" 2026-12-07 ", date(2026, 12, 7)),
        ("20261207", date(2026, 12, 7)),  # a phone's numeric keyboard may have no "-"
        ("2026/12/07", date(2026, 12, 7)),
        ("2026.12.7", date(2026, 12, 7)),
        ("2026年12月7日", date(2026, 12, 7)),
        ("２０２６－１２－０７", date(2026, 12, 7)),  # full-width, as a Chinese input method types it
        ("2024-02-29", date(2024, 2, 29)),
    ],
)
def test_a_date_is_understood_as_people_type_it(app, typed, day):
    assert parse_date(typed) == day


@pytest.mark.parametrize(
    "typed",
    [
        "12/07/2026",  # the browser's en-US format: ambiguous, never guessed
        "07.12.2026",
        "2026-02-30",
        "2026-13-01",
        "2025-02-29",
        "2026-12",
        "2026127",
        "明天",
        "",
        "2026-12-07 10:00",
    ],
)
def test_anything_else_is_refused_with_a_coded_chinese_message(app, typed):
    with app.test_request_context("/"), pytest.raises(ValueError, match="年-月-日") as caught:
        parse_date(typed)
    message = caught.value.args[0]
    assert code_of(message) == "invalid_date"
    assert str(message) == "请按 年-月-日 填写日期，如 2026-12-07"


class OneDate(FlaskForm):
    class Meta:
        csrf = False

    day = DateField("日期")


def test_the_field_is_a_text_input_showing_iso(app):
    with app.test_request_context("/"):
        html = str(OneDate(data={"day": date(2026, 12, 7)}).day())
    assert 'type="text"' in html and 'type="date"' not in html
    assert 'value="2026-12-07"' in html and 'placeholder="2026-12-07"' in html
    assert 'inputmode="numeric"' in html and 'title="格式：年-月-日，如 2026-12-07"' in html


@pytest.mark.parametrize(
    ("typed", "day", "shown"),
    [
        ("20261207", date(2026, 12, 7), "2026-12-07"),  # re-shown in ISO once understood
        ("2026/1/5", date(2026, 1, 5), "2026-01-05"),
        ("", None, ""),  # empty: no date, no error (Optional / DataRequired decide)
    ],
)
def test_what_was_typed_comes_back_in_iso(app, typed, day, shown):
    with app.test_request_context("/", method="POST"):
        form = OneDate(formdata=MultiDict({"day": typed}))
        assert form.validate()
        assert form.day.data == day
        assert f'value="{shown}"' in str(form.day())


def test_a_wrong_date_stays_in_the_box_with_its_message(app):
    with app.test_request_context("/", method="POST"):
        form = OneDate(formdata=MultiDict({"day": "2026-02-30"}))
        assert not form.validate()
        assert [code_of(e) for e in form.day.errors] == ["invalid_date"]
        assert 'value="2026-02-30"' in str(form.day())


def _form_classes():
    for info in pkgutil.walk_packages([str(PACKAGE)], "mediation_hub."):
        if info.name.rsplit(".", 1)[-1] in ("forms", "views"):
            module = importlib.import_module(info.name)
            yield from (
                value
                for value in vars(module).values()
                if isinstance(value, type) and issubclass(value, wtforms.Form) and value.__module__ == module.__name__
            )


def test_every_date_field_of_the_hub_is_the_iso_one(app):
    date_fields = {
        f"{form.__module__}.{form.__name__}.{name}": field.field_class
        for form in _form_classes()
        for name, field in vars(form).items()
        if isinstance(field, wtforms.fields.core.UnboundField) and issubclass(field.field_class, wtforms.DateField)
    }
    assert len(date_fields) >= 20  # cases, legal aid, transfers, agreements, registry, audit
    assert {name for name, cls in date_fields.items() if cls is not DateField} == set()


def test_no_template_writes_a_browser_date_input():
    offenders = [
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("templates/**/*.html")
        if re.search(r'type=["\']?(date|datetime-local|datetime)\b', path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_no_script_formats_a_date_in_the_browser_locale():
    scripts = [path for path in (PACKAGE / "static" / "js").glob("*.js")]
    offenders = [
        path.name
        for path in scripts
        if re.search(r"toLocale(Date)?String|Intl\.DateTimeFormat", path.read_text(encoding="utf-8"))
    ]
    assert scripts and offenders == []


# --- what a person reads --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stamp", "shown"),
    [
        (datetime(2026, 12, 7, 6, 30, tzinfo=UTC), "2026-12-07 14:30"),
        (datetime(2026, 12, 6, 16, 5, tzinfo=UTC), "2026-12-07 00:05"),  # past midnight in Shanghai already
        (datetime(2026, 12, 7, 6, 30), "2026-12-07 14:30"),  # stored timestamps are UTC
        (None, ""),
    ],
)
def test_a_timestamp_reads_in_shanghai_time(stamp, shown):
    assert local_time(stamp) == shown


@pytest.mark.parametrize(
    ("due", "left"),
    [
        (date(2026, 12, 9), 2),
        (date(2026, 12, 7), 0),
        (date(2026, 4, 1), -250),
        (date(2027, 1, 6), 30),
        (None, None),
    ],
)
def test_days_until_counts_from_today_in_shanghai(due, left):
    with time_machine.travel(NOW, tick=False):
        assert days_until(due) == left
    # 23:30 UTC on 2026-12-06 is already Monday morning in Shanghai
    with time_machine.travel(datetime(2026, 12, 6, 23, 30, tzinfo=UTC), tick=False):
        assert days_until(due) == left


@pytest.mark.parametrize(
    ("left", "words", "colour"),
    [
        (-250, "超期 250 天", "days-overdue"),
        (-1, "超期 1 天", "days-overdue"),
        (0, "今天到期", "days-soon"),
        (1, "剩余 1 天 · 即将到期", "days-soon"),
        (3, "剩余 3 天 · 即将到期", "days-soon"),
        (4, "剩余 4 天", "days-ok"),
        (None, "—", "days-none"),
    ],
)
def test_the_days_left_are_said_in_words_and_colour(app, left, words, colour):
    with app.test_request_context("/"):
        html = app.jinja_env.from_string('{% from "_lists.html" import days_left %}{{ days_left(x) }}').render(x=left)
    assert html == f'<span class="days-left {colour}">{words}</span>'


# --- the pages ------------------------------------------------------------------------------------------------

NOT_ISO = [
    re.compile(r"\b\d{1,2}/\d{1,2}/\d{2,4}\b"),  # 12/07/2026
    re.compile(r"\b\d{4}/\d{1,2}/\d{1,2}\b"),  # 2026/12/07
    re.compile(r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}"),  # a raw datetime (2026-12-07 06:30:00+00:00)
    re.compile(r"\d{4}年\d{1,2}月\d{1,2}日"),
    re.compile(r"\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\b"),
]


def _visible(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


@pytest.fixture
def mediator_pages(signed_in, make_org, make_user, make_case):
    """A mediator's pages on Monday 2026-12-07 with a case in mediation (accepted 2026-11-09, due 2026-12-09)."""
    with time_machine.travel(NOW, tick=False):
        org = make_org(name="朝阳区六里屯街道人民调解委员会")
        user = make_user(role=Role.mediator, organization=org)
        case = make_case(org, CaseStatus.in_mediation, received_on=date(2026, 11, 9), accepted_on=date(2026, 11, 9))
        g.pop("_login_user", None)
        g.pop("actor", None)
        yield signed_in(user), case


@pytest.mark.parametrize(
    "url", ["/cases/worklist", "/cases", "/cases/{case}", "/cases/new", "/notifications/", "/transfers/"]
)
def test_the_pages_show_iso_dates_only(mediator_pages, url):
    client, case = mediator_pages
    response = client.get(url.format(case=case.id))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'type="date"' not in html
    text = _visible(html)
    assert [pattern.pattern for pattern in NOT_ISO if pattern.search(text)] == []


def test_the_worklist_shows_the_deadline_and_the_days_left(mediator_pages):
    client, case = mediator_pages
    html = client.get("/cases/worklist").get_data(as_text=True)
    row = re.search(rf'data-case-id="{case.id}">(.*?)</tr>', html, re.S).group(1)
    assert "2026-11-09" in row and "2026-12-09" in row  # accepted, due: 30 days after, a Wednesday
    assert '<span class="days-left days-soon">剩余 2 天 · 即将到期</span>' in row


def test_the_registration_form_offers_today_in_iso(mediator_pages):
    client, _ = mediator_pages
    html = client.get("/cases/new").get_data(as_text=True)
    field = re.search(r'<input[^>]*name="received_on"[^>]*>', html).group(0)
    assert 'value="2026-12-07"' in field and 'type="text"' in field and 'placeholder="2026-12-07"' in field


@pytest.mark.parametrize(("typed", "saved"), [("20261207", date(2026, 12, 7)), ("2026/12/5", date(2026, 12, 5))])
def test_a_case_page_form_takes_a_date_typed_on_a_phone(mediator_pages, typed, saved):
    client, case = mediator_pages
    with time_machine.travel(NOW, tick=False):
        response = client.post(
            f"/cases/{case.id}/sessions",
            data={"record_session-held_on": typed, "record_session-summary": "双方到场，达成初步谅解"},
        )
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:500]
    assert case.sessions[-1].held_on == saved
