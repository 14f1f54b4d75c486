"""Finding (secrets at rest): with DEBUG off and no FIELD_ENCRYPTION_KEY, secrets were encrypted with the
development key that is in the source, and `check --deploy` said nothing. Now that is a system-check error,
and the web (WSGI), worker and beat processes refuse to start."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from core.crypto import encrypt
from testsupport.dburl import subprocess_database_url

ROOT = Path(__file__).resolve().parents[2]


def run(args: list[str], **env: str) -> subprocess.CompletedProcess:
    drop = ("FIELD_ENCRYPTION_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE")
    base = {k: v for k, v in os.environ.items() if k not in drop}
    return subprocess.run(
        args, cwd=ROOT, env={**base, "DEBUG": "0", **env}, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("args", [["check"], ["check", "--deploy"]])
def test_check_reports_a_missing_key_as_an_error(args):
    result = run([sys.executable, "manage.py", *args])
    assert result.returncode != 0
    assert "core.E001" in result.stderr and "FIELD_ENCRYPTION_KEY is not set" in result.stderr


def test_check_reports_a_key_that_is_not_a_fernet_key():
    result = run([sys.executable, "manage.py", "check"], FIELD_ENCRYPTION_KEY="not-a-key")
    assert result.returncode != 0 and "core.E002" in result.stderr


def test_the_web_app_refuses_to_load_without_the_key():
    result = run([sys.executable, "-c", "import emailengine.wsgi"])
    assert result.returncode != 0
    assert "Refusing to start" in result.stderr and "core.E001" in result.stderr


@pytest.mark.django_db
@pytest.mark.parametrize("process", [["worker", "-Q", "default", "--pool", "solo"], ["beat"]])
def test_celery_worker_and_beat_refuse_to_start_without_the_key(process, tmp_path):
    extra = ["-s", str(tmp_path / "schedule")] if process == ["beat"] else []
    celery = str(Path(sys.executable).parent / "celery")
    # A reachable database, as in production: beat reads its schedule before it starts.
    result = run([celery, "-A", "emailengine", *process, *extra], DATABASE_URL=subprocess_database_url())
    assert result.returncode == 1
    assert "Refusing to start" in result.stderr and "core.E001" in result.stderr


def test_nothing_is_encrypted_with_the_development_key_when_debug_is_off(settings):
    settings.DEBUG = False
    settings.FIELD_ENCRYPTION_KEY = ""
    with pytest.raises(ImproperlyConfigured, match="FIELD_ENCRYPTION_KEY"):
        encrypt("a secret")


def test_debug_runs_keep_the_development_key(settings):
    settings.DEBUG = True
    settings.FIELD_ENCRYPTION_KEY = ""
    assert encrypt("a secret").startswith("gAAAA")
