FROM python:3.12-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    DJANGO_SETTINGS_MODULE=emailengine.settings \
    STATIC_ROOT=/app/staticfiles \
    STATICFILES_BACKEND=whitenoise.storage.CompressedManifestStaticFilesStorage \
    WHITENOISE_USE_FINDERS=0 \
    LOG_FORMAT=json

WORKDIR /app
RUN groupadd --system app && useradd --system --gid app --home /app app
COPY pyproject.toml ./
RUN pip install --upgrade pip && pip install '.[ops]'
COPY . .
# collectstatic needs no database and no real secrets.
RUN SECRET_KEY=collectstatic-only python manage.py collectstatic --no-input && chown -R app:app /app
USER app
EXPOSE 8000
CMD ["gunicorn", "--config", "deploy/gunicorn.conf.py", "emailengine.wsgi:application"]
