"""Settings, all from the environment (or `.env`) with local defaults that need no system services."""

from datetime import timedelta
from pathlib import Path

import environ
from django.utils.csp import CSP

from campaigns.accounting.classify import DEFAULT_HARD_CATEGORIES  # stdlib-only module: the cited rule
from emailengine.logging import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
# The default key is for local runs and tests only; `check --deploy` flags it, production sets SECRET_KEY.
SECRET_KEY = env.str("SECRET_KEY", default="django-insecure-local-development-key")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_celery_beat",
    "django_prometheus",
    "axes",
    "core",
    # django-ninja (the JSON API); installed so its docs page uses the vendored Swagger UI from our static
    # files instead of a CDN.
    "ninja",
    "tenants",
    "ips",
    "domains",
    "reputation",
    "campaigns",
    "hygiene",
    "mailwizz",
    "warmup",
    "emailengine",
]

MIDDLEWARE = [
    "tenants.middleware.RealClientIPMiddleware",
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Every page needs a login unless its view says @login_not_required (health, metrics, webhooks).
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "tenants.middleware.AuditContextMiddleware",
    "tenants.middleware.NoTenantMiddleware",
    "emailengine.db_router.ReplicaReadsMiddleware",
    "axes.middleware.AxesMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "emailengine.urls"
WSGI_APPLICATION = "emailengine.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
                "tenants.context_processors.actor",
                "ips.context_processors.config_drift",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/emailengine")}
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))
# A kept connection must still be alive when a request picks it up (a database restart, an idle timeout).
DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", DATABASES["default"]["CONN_MAX_AGE"] != 0)
# A streaming replica of the primary (README-DEPLOY "Beyond one machine"): dashboard pages read the event
# store from it (emailengine/db_router.py). Tests mirror it onto the primary's test database.
if env.str("DATABASE_REPLICA_URL", default=""):
    DATABASES["replica"] = env.db("DATABASE_REPLICA_URL")
    DATABASES["replica"].setdefault("CONN_MAX_AGE", DATABASES["default"]["CONN_MAX_AGE"])
    DATABASES["replica"].setdefault("CONN_HEALTH_CHECKS", DATABASES["default"]["CONN_HEALTH_CHECKS"])
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["emailengine.db_router.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Lockout after repeated failed logins (django-axes): per username and IP, so one attacker
# cannot lock every account out from one address, nor guess one account from many.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # Production images run collectstatic and set whitenoise.storage.CompressedManifestStaticFilesStorage.
        "BACKEND": env.str(
            "STATICFILES_BACKEND", default="django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Tests and local runs serve straight from the finders; production serves collectstatic's output.
WHITENOISE_USE_FINDERS = env.bool("WHITENOISE_USE_FINDERS", default=True)
WHITENOISE_AUTOREFRESH = DEBUG

# Django 6 built-in Content Security Policy: nothing inline, nothing from elsewhere.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env.bool(
    "SESSION_COOKIE_SECURE", default=not DEBUG and env.bool("HTTPS", default=False)
)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
# Prometheus and the container health checks speak plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^(metrics|healthz|readyz)$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = SECURE_HSTS_SECONDS > 0
BEHIND_PROXY = env.bool("BEHIND_PROXY", default=False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_PROXY else None
X_FRAME_OPTIONS = "DENY"

# Celery: Redis when REDIS_URL is set, else kombu's filesystem transport so a laptop needs no broker.
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
else:
    _broker_dir = VAR_DIR / "broker"
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        # Broadcast/control messages (celery inspect, remote control) would otherwise land in ./control.
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
    CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# Resolvers for rDNS, domain checks and blocklist sweeps ("ip" or "ip:port", comma separated).
DNS_NAMESERVERS = env.list("DNS_NAMESERVERS", default=["127.0.0.1:53"])
DNS_TIMEOUT = env.float("DNS_TIMEOUT", default=3.0)

# Fernet key(s) for secrets at rest (DKIM private keys, PMTA API keys); comma separated, first one encrypts.
# Required whenever DEBUG is off (core/checks.py); with DEBUG on a development key in the source is used.
FIELD_ENCRYPTION_KEY = env.str("FIELD_ENCRYPTION_KEY", default="")

ACCOUNTING_DIR = env.str("ACCOUNTING_DIR", default="")

# When set, /metrics needs "Authorization: Bearer <METRICS_TOKEN>" (Prometheus: authorization).
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")

# Outbound HTTP to URLs people typed in (core/outbound.py): networks the operator allows although they are
# private, loopback or link-local (e.g. a MailWizz on the LAN: "10.0.5.0/24"), and the resolvers for their
# host names (empty: the system's).
OUTBOUND_ALLOWED_NETWORKS = env.list("OUTBOUND_ALLOWED_NETWORKS", default=[])
OUTBOUND_NAMESERVERS = env.list("OUTBOUND_NAMESERVERS", default=[])

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    }
}

# LOG_FORMAT=json (set by the Dockerfile, compose and the systemd env file): one JSON object per line,
# with extra fields such as job/event/duration_ms; plain text by default for local runs.
LOG_FORMAT = env.str("LOG_FORMAT", default="plain")
LOGGING = logging_config(log_format=LOG_FORMAT, level=env.str("LOG_LEVEL", default="INFO"))

PAGE_SIZE = 50

# Blocklist (DNSBL) sweeps: how often (hours, read by emailengine/celery.py), whether a new listing on a
# critical list puts the IP on hold, and how hard the resolvers are pushed (queries in flight, seconds each).
DNSBL_SWEEP_HOURS = env.float("DNSBL_SWEEP_HOURS", default=4)
DNSBL_HOLD_ON_CRITICAL = env.bool("DNSBL_HOLD_ON_CRITICAL", default=True)
DNSBL_CONCURRENCY = env.int("DNSBL_CONCURRENCY", default=200)
DNSBL_TIMEOUT = env.float("DNSBL_TIMEOUT", default=2.0)
# Circuit breaker: when one list reports at least this share of the swept IPs as listed in one sweep (and
# the sweep covered at least DNSBL_BREAKER_MIN_TARGETS IPs), the list is malfunctioning or refusing us in a
# way it does not document: its listings hold no IP and an alert fires instead
# (emailengine_dnsbl_breaker_tripped).
DNSBL_BREAKER_SHARE = env.float("DNSBL_BREAKER_SHARE", default=0.5)
DNSBL_BREAKER_MIN_TARGETS = env.int("DNSBL_BREAKER_MIN_TARGETS", default=4)

# --- Deliverability signals: the one set of thresholds (fractions of 1, never percent) ---
# campaigns/stats.py defines what each rate counts; pages, the warmup ramp, /metrics, the API and tenant
# enforcement read these. A warmup plan starts with these values and may override them per plan.
# Bounce categories that mean the receiver refused us (reputation or policy), not the address: with any
# x.7.x enhanced status code (RFC 3463 "Security or Policy Status") they make a refusal a *block*.
SIGNAL_BLOCK_CATEGORIES = env.list("SIGNAL_BLOCK_CATEGORIES", default=["spam-related", "policy-related"])
# Advance a warmup step only when more than this share of the day's cap was *delivered* (SparkPost's
# automated warmup, PMTA-NOTES section 7/10).
SIGNAL_ADVANCE_MIN_DELIVERED = env.float("SIGNAL_ADVANCE_MIN_DELIVERED", default=0.90)
# Hard bounces / attempted (list quality). Hold at 2%, step back at 3%, pause at 5% (PMTA-NOTES 7:
# derived defaults; SES reviews an account at 5%).
SIGNAL_HOLD_BOUNCE_RATE = env.float("SIGNAL_HOLD_BOUNCE_RATE", default=0.02)
SIGNAL_STEP_BACK_BOUNCE_RATE = env.float("SIGNAL_STEP_BACK_BOUNCE_RATE", default=0.03)
SIGNAL_PAUSE_BOUNCE_RATE = env.float("SIGNAL_PAUSE_BOUNCE_RATE", default=0.05)
# Complaints / delivered. Gmail: stay under 0.1%, never reach 0.3% (support.google.com/a/answer/14229414).
SIGNAL_HOLD_COMPLAINT_RATE = env.float("SIGNAL_HOLD_COMPLAINT_RATE", default=0.001)
SIGNAL_PAUSE_COMPLAINT_RATE = env.float("SIGNAL_PAUSE_COMPLAINT_RATE", default=0.003)
# Blocks / attempted (reputation), judged per IP x provider: hold, then step back, then pause that provider.
SIGNAL_HOLD_BLOCK_RATE = env.float("SIGNAL_HOLD_BLOCK_RATE", default=0.02)
SIGNAL_STEP_BACK_BLOCK_RATE = env.float("SIGNAL_STEP_BACK_BLOCK_RATE", default=0.05)
SIGNAL_PAUSE_BLOCK_RATE = env.float("SIGNAL_PAUSE_BLOCK_RATE", default=0.20)
# Deferrals / (attempted + deferrals): step back at 30%.
SIGNAL_STEP_BACK_DEFERRAL_RATE = env.float("SIGNAL_STEP_BACK_DEFERRAL_RATE", default=0.30)
# Attempts above the day's cap by more than this share are a fault (the cap is not being enforced).
SIGNAL_OVER_LIMIT_TOLERANCE = env.float("SIGNAL_OVER_LIMIT_TOLERANCE", default=0.05)

# Tenant enforcement (campaigns/enforcement.py, hourly): a tenant whose complaints / delivered or hard
# bounces / attempted over the last TENANT_ENFORCE_WINDOW_DAYS UTC days (today included) reach these, with at
# least TENANT_ENFORCE_MIN_ATTEMPTED attempts, has its IPs held and an alert fires; an operator releases it.
# Defaults: the pause thresholds above (Gmail's 0.3% complaint ceiling; 5% hard bounces).
TENANT_HOLD_COMPLAINT_RATE = env.float("TENANT_HOLD_COMPLAINT_RATE", default=SIGNAL_PAUSE_COMPLAINT_RATE)
TENANT_HOLD_BOUNCE_RATE = env.float("TENANT_HOLD_BOUNCE_RATE", default=SIGNAL_PAUSE_BOUNCE_RATE)
TENANT_ENFORCE_MIN_ATTEMPTED = env.int("TENANT_ENFORCE_MIN_ATTEMPTED", default=1000)
TENANT_ENFORCE_WINDOW_DAYS = env.int("TENANT_ENFORCE_WINDOW_DAYS", default=2)

# Provider data (reputation/providers/): Google Postmaster Tools v2 and Microsoft SNDS. The URLs are the
# providers' own; tests point them at local stand-ins. Imported daily (emailengine/celery.py).
POSTMASTER_API_URL = env.str("POSTMASTER_API_URL", default="https://gmailpostmastertools.googleapis.com/")
GOOGLE_OAUTH_TOKEN_URL = env.str("GOOGLE_OAUTH_TOKEN_URL", default="https://oauth2.googleapis.com/token")
POSTMASTER_DAYS_BACK = env.int("POSTMASTER_DAYS_BACK", default=3)
# The last field of every Feedback-ID we ask senders to set (reputation/providers/feedback_id.py).
FEEDBACK_ID_SENDER = env.str("FEEDBACK_ID_SENDER", default="ee1")
SNDS_DATA_URL = env.str(
    "SNDS_DATA_URL", default="https://sendersupport.olc.protection.outlook.com/snds/data.aspx"
)

# --- Accounting import (campaigns) ---
# Where a record's campaign id comes from: jobId, envId or header_<Name> (e.g. header_X-Mw-Campaign-Uid;
# MailWizz's header prefix varies by install, names match case-insensitively).
ACCOUNTING_CAMPAIGN_SOURCE = env.str("ACCOUNTING_CAMPAIGN_SOURCE", default="jobId")
# Bounce categories that make a b/rb record a hard bounce (and suppress the address); the record type,
# not the category, decides whether a failure is final.
ACCOUNTING_HARD_CATEGORIES = env.list("ACCOUNTING_HARD_CATEGORIES", default=sorted(DEFAULT_HARD_CATEGORIES))
# Single delivery events are kept this long for drill-down; daily aggregates are kept for good.
ACCOUNTING_EVENT_RETENTION_DAYS = env.int("ACCOUNTING_EVENT_RETENTION_DAYS", default=30)
# Largest webhook body accepted (413 beyond).
ACCOUNTING_WEBHOOK_MAX_BYTES = env.int("ACCOUNTING_WEBHOOK_MAX_BYTES", default=10 * 1024 * 1024)
# Files in ACCOUNTING_DIR modified within this many seconds may still be written by PMTA: an
# unterminated last line waits for the next run.
ACCOUNTING_SETTLE_SECONDS = env.int("ACCOUNTING_SETTLE_SECONDS", default=300)

# --- List hygiene (hygiene) ---
# Largest upload accepted (the whole list is stored on the job, so a restarted worker re-reads it).
VALIDATION_MAX_UPLOAD_BYTES = env.int("VALIDATION_MAX_UPLOAD_BYTES", default=20 * 1024 * 1024)
# Rows decided and committed together (one resume point each).
VALIDATION_CHUNK_ROWS = env.int("VALIDATION_CHUNK_ROWS", default=2000)
# A running job without a heartbeat for this long lost its worker and is queued again...
VALIDATION_STALE_SECONDS = env.int("VALIDATION_STALE_SECONDS", default=300)
# ...at most this many runs, then it fails instead of killing workers forever.
VALIDATION_MAX_ATTEMPTS = env.int("VALIDATION_MAX_ATTEMPTS", default=5)
# Per-query DNS timeout for validation (0: DNS_TIMEOUT) and queries in flight at once.
VALIDATION_DNS_TIMEOUT = env.float("VALIDATION_DNS_TIMEOUT", default=0)
VALIDATION_DNS_CONCURRENCY = env.int("VALIDATION_DNS_CONCURRENCY", default=100)

# --- MailWizz (mailwizz) ---
MAILWIZZ_TIMEOUT = env.float("MAILWIZZ_TIMEOUT", default=10.0)  # seconds per API call
MAILWIZZ_SYNC_PER_PAGE = env.int("MAILWIZZ_SYNC_PER_PAGE", default=50)
MAILWIZZ_SYNC_MAX_PAGES = env.int("MAILWIZZ_SYNC_MAX_PAGES", default=200)
# Feedback outbox: delivery events scanned per batch and per run, and how far back each run re-reads
# (events committed out of id order are not missed).
MAILWIZZ_ENQUEUE_BATCH = env.int("MAILWIZZ_ENQUEUE_BATCH", default=5000)
MAILWIZZ_ENQUEUE_MAX_EVENTS = env.int("MAILWIZZ_ENQUEUE_MAX_EVENTS", default=100_000)
MAILWIZZ_WATERMARK_OVERLAP = env.int("MAILWIZZ_WATERMARK_OVERLAP", default=20_000)
# Posting back: rows per run, retries with exponential backoff from BASE up to MAX, then failed.
MAILWIZZ_SEND_BATCH = env.int("MAILWIZZ_SEND_BATCH", default=200)
MAILWIZZ_RETRY_BASE_SECONDS = env.float("MAILWIZZ_RETRY_BASE_SECONDS", default=60)
MAILWIZZ_RETRY_MAX_SECONDS = env.float("MAILWIZZ_RETRY_MAX_SECONDS", default=6 * 3600)
MAILWIZZ_FEEDBACK_MAX_ATTEMPTS = env.int("MAILWIZZ_FEEDBACK_MAX_ATTEMPTS", default=8)

# --- PMTA config fragments (ips, domains) ---
# Where the PMTA host keeps the files Email Engine renders (the main config includes them from here).
PMTA_INCLUDE_DIR = env.str("PMTA_INCLUDE_DIR", default="/etc/pmta/emailengine")
# Seconds between runs of the PMTA host agent (deploy/pmta/ee-agent); the bundle tells the agent.
PMTA_AGENT_INTERVAL = env.int("PMTA_AGENT_INTERVAL", default=30)
