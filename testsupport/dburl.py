"""The DATABASE_URL of the test database, for processes a test starts (gunicorn, celery, manage.py).

Built from the run's own DATABASE_URL with the test database's name, so it works for a TCP server and for
the embedded server on a Unix socket (whose URL carries the socket in its query string).
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

from django.db import connection


def subprocess_database_url() -> str:
    name = connection.settings_dict["NAME"]
    base = os.environ.get("DATABASE_URL", "")
    if not base:
        db = connection.settings_dict
        return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{name}"
    parts = urlsplit(base)
    return urlunsplit(parts._replace(path=f"/{name}"))
