"""Small things people notice (issue 13 point 10): a favicon, and log lines without colour codes."""

from __future__ import annotations

import io
import json
import logging

import pytest

from mediation_hub.core.logs import JsonFormatter, colour_only_on_a_terminal, plain

# Slow (a server started in a subprocess): `make test` runs it, `make test-fast` does not.
pytestmark = pytest.mark.slow


def test_favicon_is_served_at_the_root_without_signing_in(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200 and response.mimetype == "image/vnd.microsoft.icon"
    assert response.data[:4] == b"\x00\x00\x01\x00"  # an ICO header
    assert "max-age" in response.headers["Cache-Control"]


@pytest.mark.parametrize(
    ("name", "mimetype", "start"),
    [
        ("favicon.svg", "image/svg+xml", b"<svg"),
        ("favicon-32.png", "image/png", b"\x89PNG"),
        ("favicon-180.png", "image/png", b"\x89PNG"),
    ],
)
def test_every_icon_the_layout_links_exists(client, name, mimetype, start):
    page = client.get("/login").get_data(as_text=True)
    assert f"/static/{name}" in page
    response = client.get(f"/static/{name}")
    assert response.status_code == 200 and response.mimetype == mimetype and response.data.startswith(start)


def test_ansi_colour_codes_are_stripped():
    assert plain("\x1b[1m\x1b[31mGET /x HTTP/1.1\x1b[0m") == "GET /x HTTP/1.1"
    assert plain("no codes") == "no codes"


def test_werkzeugs_coloured_request_line_is_logged_plain(app):
    """werkzeug colours a 404's request line yellow and a 500's magenta; the JSON line carries no escape code."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    record = logging.LogRecord(
        "werkzeug",
        logging.INFO,
        __file__,
        1,
        '127.0.0.1 - - "%s" %s -',
        ("\x1b[33mGET /nowhere HTTP/1.1\x1b[0m", "404"),
        None,
    )
    handler.emit(record)
    line = stream.getvalue().strip()
    assert "\x1b" not in line and "\\u001b" not in line
    assert json.loads(line)["message"] == '127.0.0.1 - - "GET /nowhere HTTP/1.1" 404 -'


class Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.parametrize(
    ("stream", "coloured"), [(io.StringIO(), False), (Terminal(), True)], ids=["not-a-terminal", "terminal"]
)
def test_werkzeug_colours_only_on_a_terminal(monkeypatch, stream, coloured):
    import werkzeug.serving

    monkeypatch.setattr(werkzeug.serving, "_log_add_style", True)
    colour_only_on_a_terminal(stream)
    assert ("\x1b" in werkzeug.serving._ansi_style("GET / 404", "yellow")) is coloured


def test_a_server_started_with_its_output_in_a_file_logs_plain_lines(tmp_path):
    """``mediation-hub run`` (werkzeug) with stderr redirected to a file, as a service manager does: one request to
    a missing page, and no escape code in what was written."""
    import os
    import subprocess
    import sys
    import time
    import urllib.request

    log = tmp_path / "server.log"
    env = {
        **os.environ,
        "MEDIATION_HUB_DATABASE_URL": f"sqlite:///{tmp_path / 'hub.db'}",
        "MEDIATION_HUB_SCHEDULER_ENABLED": "false",
        "FLASK_APP": "mediation_hub:create_app",
    }
    env.pop("FORCE_COLOR", None)
    code = (
        "import sys; from mediation_hub import create_app; from werkzeug.serving import make_server;"
        "s = make_server('127.0.0.1', 0, create_app()); print(s.port, flush=True); s.serve_forever()"
    )
    with log.open("w") as err:
        server = subprocess.Popen(
            [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=err, env=env, cwd=tmp_path, text=True
        )
    try:
        port = int(server.stdout.readline())
        urllib.request.urlopen(f"http://127.0.0.1:{port}/favicon.ico", timeout=10).read()
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/no-such-page", timeout=10)
        assert missing.value.code == 404
        time.sleep(0.2)
    finally:
        server.terminate()
        server.wait(timeout=10)
    text = log.read_text()
    assert "no-such-page" in text and "\x1b" not in text and "\\u001b" not in text
