import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

from core.checks import refuse_to_start_on_errors

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "emailengine.settings")
application = get_wsgi_application()

# Django's system checks do not run under gunicorn: a web process without its production secrets
# (core/checks.py) exits here instead of serving.
refuse_to_start_on_errors()

# Import the URLconf (every view module behind it) now, not on each worker's first request: that first
# request would pay for it, and gunicorn's post_worker_init gc.freeze() would miss those objects. With
# --preload the import happens once, in the master, before the workers fork.
get_resolver().url_patterns  # noqa: B018 - reading it is what imports the URLconf
