"""A suite-wide guard: no unmasked resident ID number or mobile number leaves the hub during the tests.

Registered as a pytest plugin (tests/conftest.py). For the whole session it sees

- every HTTP response any Flask app answers, through the Flask test client or the live server of the browser
  tests (``Flask.__call__`` is wrapped, so apps built inside a test are covered too): the body, the
  ``Location`` and ``Content-Disposition`` headers, and every XML part of an xlsx (or any zip) download;
- every log record of the root logger and of the hub's own loggers ("mediation_hub", "werkzeug",
  "gunicorn.error"), which the hub does not propagate to the root (``configure_logging`` is wrapped so the
  guard's handler survives every ``create_app``). The message itself is scanned, before the hub's JSON
  formatter masks it as a last line of defence: code must not log personal numbers in the first place.

At the end of the session any finding fails the run (exit status 1) and is listed with the test id, the URL
or logger and a masked excerpt.

It also reads what stays behind: ``dump_database`` writes the whole database as text (``pg_dump`` on
PostgreSQL, the connection's ``iterdump()`` on SQLite) and ``scan_text`` finds in it, or in log lines, every
number by structure and every number a test used, found verbatim (tests/test_pii_urls_and_dump.py runs the
suite's personal-data journeys and scans the dump). Encrypted columns are ciphertext and keyed hashes are
hex digests: neither holds a number. The one exception is an audited reveal: a ``POST`` answered 2xx with the
header ``X-Personal-Data: revealed``, which only the reveal and personal-data export views set, or the ``GET`` of
one of the documents the law needs full numbers in (``DOCUMENT_DOWNLOAD``), answered 2xx with that header by the
documents' download, which audits it. A PDF is read as text (pypdf), so every other document is scanned too.

What counts as a number, by structure (never by switching the check off):

- ID number: 18 characters ``\\d{17}[\\dXx]`` not inside a longer digit run, whose check digit and birth date
  are right (the hub stores only such numbers, so any leak of stored data has them; a run of 18 digits that
  fails the check digit is something else, e.g. an all-digit USCC of a company);
- mobile: 11 digits ``1[3-9]\\d{9}`` not inside a longer digit run nor glued to letters before it;
- either one is ignored inside a run of 32 or more letters and digits (a hex digest, a UUID, a base64 key or
  token), which no person's number is part of;
- a refused request (4xx) may give back a number the client itself sent in that request (a form shown again
  for correction, with what the person typed): nothing was stored and nothing of anyone else's is shown.
  A successful answer never may, so an API that echoes a number it has just stored is still caught.
"""

from __future__ import annotations

import io
import logging
import os
import re
import shutil
import subprocess
import threading
import zipfile
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from flask import Flask
from stdnum.cn import ric

ID_NUMBER = re.compile(r"(?<![0-9])\d{17}[\dXx](?![0-9])")
MOBILE = re.compile(r"(?<![0-9A-Za-z])1[3-9]\d{9}(?![0-9])")
LONG_TOKEN = re.compile(r"[0-9A-Za-z]{32,}")
REVEALED_HEADER = "X-Personal-Data"
# The documents the law needs full numbers in (the agreement, the 司法确认 application, the file that holds them)
# are downloaded by GET (DESIGN "Documents") and audited like a reveal; every other document is read as text.
DOCUMENT_DOWNLOAD = re.compile(r"/documents/(agreement|confirmation_application|file)$")
HUB_LOGGERS = ("mediation_hub", "werkzeug", "gunicorn.error")
SCANNED_HEADERS = ("Location", "Content-Disposition")
BINARY_TYPES = ("image/", "font/", "audio/", "video/")
EXCERPT = 60


def is_id_number(candidate: str) -> bool:
    """A resident ID number the hub would store: right check digit and a real birth date."""
    try:
        ric.get_birth_date(candidate)
    except Exception:
        return False
    return ric.calc_check_digit(candidate).upper() == candidate[-1].upper()


def mask(text: str) -> str:
    """The excerpt as it may be printed: every candidate number masked like the hub masks them."""
    text = ID_NUMBER.sub(lambda m: m.group()[:6] + "********" + m.group()[-4:], text)
    return MOBILE.sub(lambda m: m.group()[:3] + "****" + m.group()[-4:], text)


def find_numbers(text: str, *, sent: str = "") -> list[tuple[str, int]]:
    """``[(kind, position)]`` of every unmasked ID number or mobile number in ``text``, leaving out those
    that appear in ``sent`` (what the client sent, for a refused request)."""
    tokens = [m.span() for m in LONG_TOKEN.finditer(text)]

    def counts(match: re.Match) -> bool:
        start, end = match.span()
        return not any(a <= start and end <= b for a, b in tokens) and not (sent and match.group() in sent)

    found = [("ID number", m.start()) for m in ID_NUMBER.finditer(text) if is_id_number(m.group()) and counts(m)]
    found += [("mobile number", m.start()) for m in MOBILE.finditer(text) if counts(m)]
    return sorted(found, key=lambda f: f[1])


def scan_text(text: str, used: Iterable[str] = ()) -> list[tuple[str, str]]:
    """``[(kind, masked excerpt)]`` of every personal number in ``text`` (a database dump, log lines): every
    one found by structure (``find_numbers``), and every number of ``used`` (the ones a test worked with,
    fixed-line phones included, which no pattern knows) found verbatim, wherever it stands."""
    found = list(find_numbers(text))
    lowered = text.lower()
    for number in {n.lower() for n in used if n}:
        start = lowered.find(number)
        while start != -1:
            found.append(("a number the test used", start))
            start = lowered.find(number, start + 1)
    return [
        (kind, " ".join(mask_known(text[max(0, at - EXCERPT) : at + 18 + EXCERPT], used).split()))
        for kind, at in sorted(set(found), key=lambda f: f[1])
    ]


def mask_known(text: str, used: Iterable[str] = ()) -> str:
    """``mask`` and, in addition, each of the ``used`` numbers (fixed lines, odd forms) by its last four."""
    text = mask(text)
    for number in used:
        if number and len(number) > 4:
            text = re.sub(re.escape(number), "*" * (len(number) - 4) + number[-4:], text, flags=re.IGNORECASE)
    return text


def dump_database(connection) -> str:
    """The whole database as text, as the hub's operators would copy it: ``pg_dump`` of a PostgreSQL database
    (it sees what is committed), or the SQLite connection's ``iterdump()`` (it sees what this connection sees,
    the test's open transaction included). ``connection``: a SQLAlchemy ``Connection`` of the database."""
    url = connection.engine.url
    if url.get_backend_name() == "sqlite":
        return "\n".join(connection.connection.dbapi_connection.iterdump())
    pg_dump = shutil.which("pg_dump") or "/usr/bin/pg_dump"
    command = [
        pg_dump,
        "--no-owner",
        "--no-privileges",
        "--host",
        url.host or "127.0.0.1",
        "--port",
        str(url.port or 5432),
        "--username",
        url.username or "postgres",
        url.database,
    ]
    env = {**os.environ, **({"PGPASSWORD": url.password} if url.password else {})}
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"pg_dump failed ({done.returncode}): {done.stderr.strip()}")
    return done.stdout


@dataclass(frozen=True)
class Finding:
    test: str
    source: str  # "response", "xlsx", "header", "log"
    where: str  # method and URL, or the logger's name
    kind: str
    excerpt: str

    def describe(self) -> str:
        return f"{self.test}: {self.kind} in {self.source} {self.where}: …{self.excerpt}…"


class PiiGuard:
    """Collects findings for the session; ``expect()`` diverts them to a test that plants a number on purpose."""

    def __init__(self):
        self.findings: list[Finding] = []
        self.current_test = "(session set-up)"
        self.counts = {"responses": 0, "revealed": 0, "xlsx": 0, "pdf": 0, "log records": 0}
        self._lock = threading.Lock()
        self._sinks: list[list[Finding]] = []

    @contextmanager
    def expect(self):
        """Findings made inside the block go to the yielded list, not to the session's (for the guard's own
        tests, which plant a number to prove it is caught)."""
        sink: list[Finding] = []
        with self._lock:
            self._sinks.append(sink)
        try:
            yield sink
        finally:
            with self._lock:
                self._sinks.remove(sink)

    def _count(self, key: str) -> None:
        with self._lock:
            self.counts[key] += 1

    def _add(self, source: str, where: str, kind: str, excerpt: str) -> None:
        finding = Finding(self.current_test, source, where, kind, excerpt)
        with self._lock:
            (self._sinks[-1] if self._sinks else self.findings).append(finding)

    def _report(self, source: str, where: str, text: str, sent: str = "") -> None:
        for kind, position in find_numbers(text, sent=sent):
            start = max(0, position - EXCERPT)
            self._add(source, where, kind, " ".join(mask(text[start : position + 18 + EXCERPT]).split()))

    # --- responses --------------------------------------------------------------------------------------

    def check_response(
        self, environ: dict, status: str, headers: list[tuple[str, str]], body: bytes, sent: bytes = b""
    ) -> None:
        """``sent``: the request's body; what it holds may come back in a refused (4xx) answer."""
        self._count("responses")
        method = environ.get("REQUEST_METHOD", "GET")
        query = environ.get("QUERY_STRING", "")
        where = f"{method} {environ.get('PATH_INFO', '')}" + (f"?{query}" if query else "") + f" → {status}"
        header_map = {k.lower(): v for k, v in headers}
        revealed = header_map.get(REVEALED_HEADER.lower(), "").strip().lower() == "revealed"
        document = method == "GET" and DOCUMENT_DOWNLOAD.search(environ.get("PATH_INFO", "")) is not None
        if revealed and (method == "POST" or document) and status.startswith("2"):
            self._count("revealed")  # an audited reveal: the one answer that may carry a full number
            return
        if revealed:  # any other GET (or a failed call) marked as a reveal would hide a leak: a finding in itself
            self._add("header", where, f"'{REVEALED_HEADER}: revealed' outside a successful POST", "")
        for name in SCANNED_HEADERS:
            if name.lower() in header_map:
                self._report("header", where, f"{name}: {header_map[name.lower()]}")
        echo = sent.decode("utf-8", errors="replace") if status.startswith("4") else ""
        self.check_body(where, header_map.get("content-type", ""), body, echo)

    def check_body(self, where: str, content_type: str, body: bytes, echo: str = "") -> None:
        if body.startswith(b"%PDF-"):
            self._count("pdf")
            self._report("response", where, pdf_text(body), echo)
        elif body.startswith(b"PK\x03\x04"):
            self._count("xlsx")
            self.check_archive(where, body)
        elif not content_type.startswith(BINARY_TYPES):
            self._report("response", where, body.decode("utf-8", errors="replace"), echo)

    def check_archive(self, where: str, body: bytes) -> None:
        """An xlsx (or any zip): every XML or text part, where the cell values live."""
        try:
            archive = zipfile.ZipFile(io.BytesIO(body))
        except zipfile.BadZipFile:
            self._report("response", where, body.decode("utf-8", errors="replace"))
            return
        with archive:
            for name in archive.namelist():
                if name.endswith((".xml", ".rels", ".csv", ".txt", ".json")):
                    self._report("xlsx", f"{where} [{name}]", archive.read(name).decode("utf-8", errors="replace"))

    # --- logs -------------------------------------------------------------------------------------------

    def check_log(self, record: logging.LogRecord) -> None:
        self._count("log records")
        try:
            text = record.getMessage()
        except Exception:
            text = str(record.msg)
        if record.exc_info:
            text += "\n" + logging.Formatter().formatException(record.exc_info)
        self._report("log", record.name, text)


GUARD = PiiGuard()


class GuardHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        GUARD.check_log(record)


HANDLER = GuardHandler(level=logging.DEBUG)


def attach_log_handler() -> None:
    for logger in [logging.getLogger()] + [logging.getLogger(name) for name in HUB_LOGGERS]:
        if HANDLER not in logger.handlers:
            logger.addHandler(HANDLER)


def enable_hub_loggers() -> None:
    """Alembic's ``fileConfig`` (a migration test upgrading a database) disables every logger that exists at
    that moment, which would silence the hub's loggers, and the guard's view of them, for the rest of the
    session. A serving process never runs it; put them back as they are there."""
    for name, logger in list(logging.Logger.manager.loggerDict.items()):
        if (
            isinstance(logger, logging.Logger)
            and logger.disabled
            and (name in HUB_LOGGERS or name.startswith(tuple(f"{hub}." for hub in HUB_LOGGERS)))
        ):
            logger.disabled = False


# --- installing the hooks ----------------------------------------------------------------------------------

_original_call = Flask.__call__


def _guarded_call(self, environ, start_response):
    """Answer the request, read the whole answer (so a body the test never reads is still scanned), check it,
    then hand the same bytes on."""
    seen: dict = {}
    sent = _request_body(environ)

    def capture(status, headers, exc_info=None):
        seen["status"], seen["headers"] = status, list(headers)
        return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

    app_iter = _original_call(self, environ, capture)
    try:
        chunks = list(app_iter)
    finally:
        if hasattr(app_iter, "close"):
            app_iter.close()
    GUARD.check_response(environ, seen.get("status", ""), seen.get("headers", []), b"".join(chunks), sent)
    return chunks


def _request_body(environ: dict) -> bytes:
    """Read the request body and put an identical stream back for the app."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length <= 0 or "wsgi.input" not in environ:
        return b""
    body = environ["wsgi.input"].read(length)
    environ["wsgi.input"] = io.BytesIO(body)
    return body


def _install() -> None:
    import mediation_hub.core.logs as logs

    Flask.__call__ = _guarded_call
    original_configure = logs.configure_logging
    if not getattr(original_configure, "pii_guarded", False):

        def configure_logging(app):
            original_configure(app)  # replaces the hub loggers' handlers: put the guard's back
            attach_log_handler()

        configure_logging.pii_guarded = True
        configure_logging.original = original_configure
        logs.configure_logging = configure_logging
    attach_log_handler()


def _uninstall() -> None:
    import mediation_hub.core.logs as logs

    Flask.__call__ = _original_call
    logs.configure_logging = getattr(logs.configure_logging, "original", logs.configure_logging)
    for logger in [logging.getLogger()] + [logging.getLogger(name) for name in HUB_LOGGERS]:
        if HANDLER in logger.handlers:
            logger.removeHandler(HANDLER)


def pytest_configure(config):
    _install()


def pytest_unconfigure(config):
    _uninstall()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    GUARD.current_test = item.nodeid
    enable_hub_loggers()
    yield
    GUARD.current_test = f"(after {item.nodeid})"


# Findings made in pytest-xdist workers, described, handed to the controller when each worker finishes.
WORKER_FINDINGS: list[str] = []


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    output = getattr(node, "workeroutput", {}) or {}
    WORKER_FINDINGS.extend(output.get("pii_findings", []))
    for what, n in output.get("pii_counts", {}).items():
        GUARD.counts[what] = GUARD.counts.get(what, 0) + n


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session, exitstatus):
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: the controller reports and fails the run
        workeroutput["pii_findings"] = [finding.describe() for finding in GUARD.findings]
        workeroutput["pii_counts"] = dict(GUARD.counts)
    if (GUARD.findings or WORKER_FINDINGS) and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pdf_text(body: bytes) -> str:
    """The text of every page of a PDF (a document): where its numbers are, once the streams are unpacked."""
    from pypdf import PdfReader

    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(body)).pages)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    counts = ", ".join(f"{n} {what}" for what, n in GUARD.counts.items())
    described = [finding.describe() for finding in GUARD.findings] + WORKER_FINDINGS
    if not described:
        terminalreporter.write_line(f"personal-data guard: clean ({counts})")
        return
    terminalreporter.section("personal-data guard: unmasked personal numbers", sep="!", red=True, bold=True)
    for line in described:
        terminalreporter.write_line(line)
    terminalreporter.write_line(
        f"{len(described)} finding(s); scanned {counts}. Only an audited reveal "
        f"(POST answered with '{REVEALED_HEADER}: revealed') may carry a full number."
    )
