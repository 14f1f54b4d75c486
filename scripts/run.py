"""`make run`: Postgres (embedded unless DATABASE_URL is set), migrate, seed_demo, then web + worker + beat.

Without REDIS_URL, Celery uses kombu's filesystem transport under var/broker, so nothing else is needed.
Ctrl-C stops everything.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from embedded_db import ensure_database_url

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def main() -> int:
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "emailengine.settings")
    for sub in ("broker/queue", "broker/processed", "broker/control", "accounting"):
        (ROOT / "var" / sub).mkdir(parents=True, exist_ok=True)
    ensure_database_url()
    port = os.environ.get("PORT", "8000")
    subprocess.run([PY, "manage.py", "migrate", "--no-input"], cwd=ROOT, check=True)
    subprocess.run([PY, "manage.py", "seed_demo"], cwd=ROOT, check=True)
    celery = [PY, "-m", "celery", "-A", "emailengine"]
    commands = {
        "web": [PY, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        # Production runs one worker per queue; locally one worker consumes them all.
        "worker": [
            *celery,
            "worker",
            "-Q",
            "default,accounting,warmup,validation,mailwizz",
            "--loglevel",
            "INFO",
            "--concurrency",
            "2",
        ],
        "beat": [*celery, "beat", "--loglevel", "INFO", "--schedule", str(ROOT / "var" / "celerybeat")],
    }
    procs = {name: subprocess.Popen(cmd, cwd=ROOT) for name, cmd in commands.items()}
    print(
        f"\nEmail Engine is running at http://127.0.0.1:{port}/  (logins printed above; Ctrl-C stops all)\n"
    )
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    code = 0
    while not stopping:
        for name, proc in procs.items():
            if proc.poll() is not None:
                print(f"{name} exited with {proc.returncode}; stopping the rest", file=sys.stderr)
                code = proc.returncode or 1
                stopping = True
        time.sleep(0.5)
    for proc in procs.values():
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs.values():
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
    return code


if __name__ == "__main__":
    sys.exit(main())
