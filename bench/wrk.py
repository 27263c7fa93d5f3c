"""Drive an HTTP server with wrk (Debian's ``wrk`` package) from a list of requests, and read its figures.

    result = run_wrk("http://127.0.0.1:8000", [Req("GET", "/api/v1/cases/1", auth="bearer")], duration=10,
                     token=token)

The requests are written to a file that a generated Lua script reads: wrk thread t of T takes lines t, t + T,
t + 2T … in turn, so a list of one-use requests (a registration each with its own parties, the acceptance of a
different registered case) is never sent twice by two threads (a list shorter than the threads is sent by
each). A thread that reaches the end of its share starts again from its first line: a second acceptance of a
case answers 409 and counts as an error, so a list too short for the run shows. Every request carries the
bearer token (``auth="bearer"``), the signed-in browser session's cookie (``auth="cookie"``) or nothing. A Lua
``done()`` prints the run's figures as one JSON line: requests, duration, latency percentiles, answers of 400
or more (wrk's "non-2xx") and socket errors.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

MARK = "WRKJSON "

LUA = r"""
local file, nthreads = %(file)s, %(threads)d
local api = {["Accept"] = "application/json", ["Content-Type"] = "application/json"}
local browser = {["Accept"] = "text/html"}
local token, cookie = %(token)s, %(cookie)s
if token ~= "" then api["Authorization"] = "Bearer " .. token end
if cookie ~= "" then browser["Cookie"] = cookie end
local created, started = 0, {}
function setup(thread)
  thread:set("tid", created)
  created = created + 1
  started[#started + 1] = thread
end
statuses = {}  -- answers of 400 or more by status, per thread (read back by done())
function response(status, headers, body)
  if status >= 400 then statuses[tostring(status)] = (statuses[tostring(status)] or 0) + 1 end
end
local reqs, n = {}, 0
function init(args)
  local i, share = 0, nthreads
  for _ in io.lines(file) do i = i + 1 end
  if i < nthreads then share = 1 end  -- fewer lines than threads: every thread sends them all
  i = 0
  for line in io.lines(file) do
    if i %% share == tid %% share then
      local method, path, auth, body = line:match("^(%%S+)\t(%%S+)\t(%%S+)\t(.*)$")
      if body == "" then body = nil end
      reqs[#reqs + 1] = {method, path, auth, body}
    end
    i = i + 1
  end
end
function request()
  n = n + 1
  local r = reqs[(n - 1) %% #reqs + 1]
  local headers = {}
  for k, v in pairs(r[3] == "cookie" and browser or (r[3] == "bearer" and api or {})) do headers[k] = v end
  if r[4] then headers["Content-Type"] = "application/json" end
  return wrk.format(r[1], r[2], headers, r[4])
end
function done(summary, latency, requests)
  local e, total, parts = summary.errors, {}, {}
  for _, thread in ipairs(started) do
    for code, count in pairs(thread:get("statuses") or {}) do total[code] = (total[code] or 0) + count end
  end
  for code, count in pairs(total) do parts[#parts + 1] = string.format('"%%s": %%d', code, count) end
  io.write(string.format(
    '%(mark)s{"statuses": {' .. table.concat(parts, ", ") .. '}, ' ..
    '"requests": %%d, "duration_us": %%d, "non2xx": %%d, "socket_errors": %%d, ' ..
    '"p50_us": %%d, "p90_us": %%d, "p99_us": %%d, "mean_us": %%.1f, "max_us": %%d}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean, latency.max))
end
"""


@dataclass(frozen=True)
class Req:
    method: str
    path: str
    body: dict | None = None
    auth: str = "bearer"  # "bearer", "cookie" or "none"


def wrk_path() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise RuntimeError("wrk is not installed: apt-get install wrk (Debian), or make bench, which installs it")
    return path


def _lua_string(value: str) -> str:
    return json.dumps(value)  # a JSON string of ASCII text is a valid Lua string literal


def run_wrk(
    base_url: str,
    requests: list[Req],
    *,
    duration: float,
    connections: int = 8,
    threads: int = 2,
    token: str | None = None,
    cookie: str | None = None,
    timeout_s: int = 30,
) -> dict:
    """Run wrk for ``duration`` seconds over ``requests``; returns requests, rps, p50/p90/p99/mean/max in ms,
    non2xx, socket_errors and errors (their sum)."""
    if not requests:
        raise ValueError("no requests to send")
    threads = max(1, min(threads, connections))
    with tempfile.TemporaryDirectory(prefix="mh-wrk-") as tmp:
        lines = Path(tmp) / "requests.tsv"
        with lines.open("w", encoding="utf-8") as out:
            for req in requests:
                body = json.dumps(req.body, ensure_ascii=False, separators=(",", ":")) if req.body is not None else ""
                out.write(f"{req.method}\t{req.path}\t{req.auth}\t{body}\n")
        script = Path(tmp) / "requests.lua"
        script.write_text(
            LUA
            % {
                "file": _lua_string(str(lines)),
                "threads": threads,
                "token": _lua_string(token or ""),
                "cookie": _lua_string(cookie or ""),
                "mark": MARK,
            },
            encoding="utf-8",
        )
        completed = subprocess.run(
            [
                wrk_path(),
                f"-t{threads}",
                f"-c{connections}",
                f"-d{max(1, round(duration))}s",
                f"--timeout={timeout_s}s",
                "-s",
                str(script),
                base_url,
            ],
            capture_output=True,
            text=True,
            timeout=duration + timeout_s + 60,
            check=False,
        )
    return parse_wrk(completed.stdout, completed.stderr, completed.returncode)


def parse_wrk(stdout: str, stderr: str = "", returncode: int = 0) -> dict:
    """The figures of the JSON line the Lua ``done()`` printed."""
    line = next((line for line in stdout.splitlines() if line.startswith(MARK)), None)
    if returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({returncode}): {stdout[-1500:]} {stderr[-1500:]}")
    raw = json.loads(line[len(MARK) :])
    seconds = raw["duration_us"] / 1e6
    return {
        "requests": raw["requests"],
        "seconds": seconds,
        "rps": raw["requests"] / seconds if seconds else 0.0,
        "p50_ms": raw["p50_us"] / 1000,
        "p90_ms": raw["p90_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "mean_ms": raw["mean_us"] / 1000,
        "max_ms": raw["max_us"] / 1000,
        "non2xx": raw["non2xx"],
        "socket_errors": raw["socket_errors"],
        "errors": raw["non2xx"] + raw["socket_errors"],
        "statuses": raw["statuses"],  # {"409": 3, …}: the answers of 400 or more
    }
