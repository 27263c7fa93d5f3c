"""A throwaway PostgreSQL server of our own (initdb in a temporary directory, a free port on 127.0.0.1), so a fault
test may stop and restart it without touching the machine's shared server on 5432.

As root, initdb and pg_ctl run as the ``postgres`` OS user (PostgreSQL refuses to run as root), on a directory
that user owns. ``find_bindir`` looks in MEDIATION_HUB_PG_BINDIR, then /usr/lib/postgresql/<newest>/bin, then
the PATH."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from bench.load.support import free_port


class PostgresUnavailable(RuntimeError):
    """The PostgreSQL server programs (initdb, pg_ctl) are not installed here."""


def find_bindir() -> Path:
    candidates = []
    if os.environ.get("MEDIATION_HUB_PG_BINDIR"):
        candidates.append(Path(os.environ["MEDIATION_HUB_PG_BINDIR"]))
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    candidates.extend(versions)
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(Path(on_path).parent)
    for bindir in candidates:
        if (bindir / "initdb").exists() and (bindir / "pg_ctl").exists():
            return bindir
    raise PostgresUnavailable("initdb and pg_ctl not found (install postgresql, or set MEDIATION_HUB_PG_BINDIR)")


class ThrowawayPostgres:
    """``with ThrowawayPostgres() as pg: pg.url("mydb") … pg.stop(); pg.start()``; removed on exit."""

    def __init__(self, port: int | None = None):
        self.bindir = find_bindir()
        self.port = port or free_port()
        self.as_root = os.geteuid() == 0
        self.directory = Path(tempfile.mkdtemp(prefix="mh-pg-"))
        self.data = self.directory / "data"
        self.log = self.directory / "server.log"
        if self.as_root:  # PostgreSQL refuses to run as root
            try:
                owner = pwd.getpwnam("postgres")
            except KeyError as exc:
                shutil.rmtree(self.directory, ignore_errors=True)
                raise PostgresUnavailable("running as root and there is no postgres OS user to run the server") from exc
            os.chown(self.directory, owner.pw_uid, owner.pw_gid)

    def _run(self, *args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
        command = [str(self.bindir / args[0]), *args[1:]]
        if self.as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=self.directory)
        if check and done.returncode != 0:
            log = self.log.read_text()[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{' '.join(args[:2])} failed ({done.returncode}): {done.stderr[-2000:]}\n{log}")
        return done

    def init(self) -> None:
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        )

    def start(self) -> float:
        """Start and wait until it accepts connections; returns the seconds it took."""
        started = time.monotonic()
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.log), "-w", "-t", "60", "start")
        return time.monotonic() - started

    def stop(self, mode: str = "fast") -> float:
        """Stop (``fast``: roll back open transactions and disconnect every client); returns the seconds taken."""
        started = time.monotonic()
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")
        return time.monotonic() - started

    def running(self) -> bool:
        return self._run("pg_ctl", "-D", str(self.data), "status", check=False).returncode == 0

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def cleanup(self) -> None:
        try:
            if self.data.exists() and self.running():
                self.stop("immediate")
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self):
        try:
            self.init()
            self.start()
        except BaseException:
            self.cleanup()
            raise
        return self

    def __exit__(self, *exc):
        self.cleanup()
