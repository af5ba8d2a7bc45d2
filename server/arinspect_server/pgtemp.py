"""A throw-away PostgreSQL server for tests and benchmarks (``initdb --auth=trust``).

It runs from the Debian package's binaries (``/usr/lib/postgresql/*/bin``) on a free
loopback port with its socket and data in a temporary folder; as root, the server runs
under the ``postgres`` user (PostgreSQL refuses to run as root).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import psycopg


def find_bindir() -> Path | None:
    """The newest installed PostgreSQL ``bin`` folder that has ``initdb``, if any."""
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3])
    )
    if candidates:
        return Path(candidates[-1]).parent
    found = shutil.which("initdb")
    return Path(found).resolve().parent if found else None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class TempPostgres:
    """Start with `start`, stop with `stop` (or use as a context manager)."""

    def __init__(self, bindir: Path | None = None) -> None:
        self.bindir = bindir or find_bindir()
        if self.bindir is None:
            raise FileNotFoundError("PostgreSQL binaries not found (apt-get install postgresql)")
        self.root = Path(tempfile.mkdtemp(prefix="arinspect-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self._as_user: list[str] = []
        if os.geteuid() == 0:
            self._as_user = ["runuser", "-u", "postgres", "--"]
            shutil.chown(self.root, "postgres", "postgres")

    def _run(self, *args: str) -> None:
        subprocess.run([*self._as_user, *args], check=True, capture_output=True, timeout=120)

    def start(self) -> TempPostgres:
        """Initdb and start the server; returns self."""
        self._run(str(self.bindir / "initdb"), "-D", str(self.data), "--auth=trust",
                  "-U", "postgres", "-E", "UTF8", "--no-sync")  # fmt: skip
        options = (f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} "
                   "-c fsync=off -c full_page_writes=off -c max_connections=300")  # fmt: skip
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-o", options, "-w",
                  "-l", str(self.root / "server.log"), "start")  # fmt: skip
        return self

    def stop(self) -> None:
        """Stop the server and delete its folder."""
        if (self.data / "postmaster.pid").exists():
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate",
                      "-w", "stop")  # fmt: skip
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        """SQLAlchemy URL of a database on this server."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def dsn(self, database: str = "postgres") -> str:
        """Libpq connection string of a database on this server."""
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={database}"

    def create_database(self, name: str | None = None, template: str | None = None) -> str:
        """Create a database (empty, or a copy of ``template``); returns its name."""
        name = name or "t_" + uuid.uuid4().hex[:12]
        copy = f' TEMPLATE "{template}"' if template else ""
        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"{copy}')
        return name

    def create_schema(self, name: str | None = None, database: str = "postgres") -> str:
        """Create an empty schema (much faster than a database); returns the URL using it."""
        name = name or "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(self.dsn(database), autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{name}"')
        return f"{self.url(database)}?options=-csearch_path%3D{name}"

    def drop_schema(self, url: str, database: str = "postgres") -> None:
        """Drop the schema of a URL made by `create_schema`."""
        name = url.rsplit("%3D", 1)[1]
        with psycopg.connect(self.dsn(database), autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')

    def drop_database(self, name: str) -> None:
        """Drop a database, closing its connections."""
        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def __enter__(self) -> TempPostgres:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
