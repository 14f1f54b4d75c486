"""The WSGI module loads the URLconf with the app, not on each worker's first request."""

import importlib

from django.urls import clear_url_caches, get_resolver

import emailengine.wsgi


def test_loading_the_wsgi_app_imports_the_urlconf():
    clear_url_caches()
    assert "url_patterns" not in get_resolver().__dict__  # a fresh resolver has not read it yet
    clear_url_caches()
    importlib.reload(emailengine.wsgi)
    assert "url_patterns" in get_resolver().__dict__
