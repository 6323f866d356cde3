"""One settings module: every difference between machines comes from the environment.

The embedded default (no variables set) runs on a SQLite file and a filesystem broker
under ``var/``, so the product starts with nothing but Python. ``DATABASE_URL`` and
``REDIS_URL`` switch it to PostgreSQL and Redis.
"""

import ipaddress
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from kombu import Queue

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("Set SECRET_KEY (or DEBUG=1 for a development machine).")
    SECRET_KEY = "django-insecure-development-only-key-never-used-in-production"  # noqa: S105

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
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
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "csp",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "accounts",
    "sla",
    "tickets",
    "sla_portal",  # backup and restore commands, the backup task
    "disclosure",
    "managers",
    "knowledge",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "accounts.allowlist.ManagementAllowListMiddleware",
    "accounts.middleware.RequireSecondFactorMiddleware",
    "accounts.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "sla_portal.urls"
WSGI_APPLICATION = "sla_portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tickets.context_processors.navigation",
            ],
            # The `percent` filter on every page without a {% load %} (sla_portal.formatting).
            "builtins": ["sla_portal.templatetags.formatting"],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # No JIT: it compiled the dashboard's grouping query for 0.5 s to run it 0.3 s (bench/
    # dashboard.py, EXPLAIN ANALYZE); no query here runs long enough to win it back.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default has web, two workers and beat writing one file. WAL lets readers
    # run beside the one writer; IMMEDIATE takes the write lock at BEGIN, so a transaction
    # waits for it there (up to the timeout) instead of failing with "database is locked"
    # when it upgrades a read to a write; the busy timeout makes every writer wait its turn.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
# The cache is shared by every process (login rate limits, used TOTP codes): Redis when
# there is one, else a directory under var/ that all local processes see.
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "sla_portal.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_PREFIX", default="sla"),
            # A Redis error is a cache miss (sla_portal.cache); these bound a hung one.
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "accounts.backends.ModelBackend",
    "accounts.backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "account_login"

# allauth: personal accounts that log in by e-mail; nobody signs up by themselves, a
# support manager approves an account request instead (accounts.adapter).
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_RATE_LIMITS = {
    # Shared by the login page, its second-factor step and POST /api/v1/tokens/.
    "login_failed": "10/m/ip,5/5m/key",
    "reset_password": "20/m/ip,5/m/key",
    # The public account-request form (accounts.views.account_request_create).
    "account_request": env.str("ACCOUNT_REQUEST_RATE_LIMIT", default="5/h/ip"),
}
# Single sign-on: an organisation's own OpenID Connect provider, set up by a support manager
# (accounts/sso.py decides whom it may sign in). Every call our server makes to a provider
# gives up after this many seconds.
SOCIALACCOUNT_ADAPTER = "accounts.sso.SocialAccountAdapter"
SOCIALACCOUNT_REQUESTS_TIMEOUT = env.int("SOCIALACCOUNT_REQUESTS_TIMEOUT", default=5)
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False  # accounts.sso links by verified e-mail, with its own checks
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_STORE_TOKENS = False
# Provider hosts that may be reached over http and on internal addresses: development only.
SSO_ALLOW_LOCAL_HOSTS = env.list("SSO_ALLOW_LOCAL_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "SLA Portal"
# Accept the code of the 30-second step before or after too (RFC 6238 §5.2): a code typed as
# the step turns is refused otherwise. Used codes are still refused a second time.
MFA_TOTP_TOLERANCE = 1

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("nl", _("Dutch"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Dates, times and numbers written one way per language (sla_portal/formats/<language>/).
FORMAT_MODULE_PATH = ["sla_portal.formats"]
TIME_ZONE = "Europe/Amsterdam"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Attachments live outside the web root and are served only through a permission check.
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))

# Tickets: the reopen window after a resolution, and what an attachment may be.
SLA_REOPEN_DAYS = env.int("SLA_REOPEN_DAYS", default=14)
TICKETS_ATTACHMENT_MAX_BYTES = env.int("TICKETS_ATTACHMENT_MAX_BYTES", default=10 * 1024 * 1024)
# All files of one message together (up to 10 files): 25 MB, what common mail servers accept.
TICKETS_ATTACHMENT_MAX_MESSAGE_BYTES = env.int(
    "TICKETS_ATTACHMENT_MAX_MESSAGE_BYTES", default=25 * 1024 * 1024
)
# All files an organisation's tickets hold: 2 GB, so one customer cannot fill the shared disk.
TICKETS_ATTACHMENT_ORGANISATION_QUOTA_BYTES = env.int(
    "TICKETS_ATTACHMENT_ORGANISATION_QUOTA_BYTES", default=2 * 1024 * 1024 * 1024
)
TICKETS_ATTACHMENT_EXTENSIONS = env.list(
    "TICKETS_ATTACHMENT_EXTENSIONS",
    default=[
        "pdf",
        "png",
        "jpg",
        "jpeg",
        "gif",
        "txt",
        "log",
        "csv",
        "json",
        "xml",
        "zip",
        "docx",
        "xlsx",
        "eml",
    ],
)
TICKETS_PAGE_SIZE = env.int("TICKETS_PAGE_SIZE", default=25)

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
# Seconds any one SMTP operation may take: a mail server that accepts and never answers
# would otherwise hold a worker until the task's hard time limit (300 s).
EMAIL_TIMEOUT = env.float("EMAIL_TIMEOUT", default=10.0)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="SLA Portal <support@sla-portal.local>")


def site_url_from_bind(bind: str) -> str:
    """The address e-mailed links use when SITE_URL is not set: where bin/run's gunicorn
    listens (``BIND``, default 127.0.0.1:8000). A wildcard host (0.0.0.0, [::]) is no
    address to browse to, so it becomes localhost. Behind a proxy or on a public name, set
    SITE_URL."""
    host, _sep, port = bind.strip().rpartition(":")
    if not _sep:
        host, port = port, "8000"
    if host in ("", "0.0.0.0", "[::]", "::"):  # noqa: S104 # nosec B104 - compared, not bound
        host = "localhost"
    return f"http://{host}:{port}"


SITE_URL = env.str("SITE_URL", default="") or site_url_from_bind(env.str("BIND", default="127.0.0.1:8000"))

# Security: secure by default in production, relaxed only by DEBUG.
# How many reverse proxies of ours stand in front of the web process, each appending the address
# it saw to X-Forwarded-For: the client is the entry that many places from the end. 0 (the
# default) ignores the header, which a client can write. Every rate limit (DRF's throttles,
# allauth's and our own) reads the client address through this one rule:
# sla_portal.client_ip.client_ip.
TRUSTED_PROXIES = env.int("TRUSTED_PROXIES", default=0)
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXIES
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy on every response (django-csp): scripts and styles only from our own
# static files (no inline <script>, on*= handler, <style> or style attribute in templates/), no
# plugins, no <base>, no framing. Images also from data: URIs, which is how allauth shows the TOTP
# QR code and how Swagger UI's stylesheet draws its icons. A response that sets its own policy
# keeps it (attachments: `sandbox`).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    },
}
SESSION_COOKIE_HTTPONLY = True
# Sessions are read from the cache, written through to the database: one query less on every
# page (~0.7 ms of a list page's ~10 ms budget, bench/desk.py). With Redis down they are read
# from the database: logged-in users stay logged in (sla_portal.cache makes errors misses).
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# Networks (CIDRs, comma separated) the desk, the manager pages, the admin and staff accounts
# answer from; empty: anywhere (accounts/allowlist.py).
MANAGEMENT_ALLOWED_NETWORKS = env.list("MANAGEMENT_ALLOWED_NETWORKS", default=[])
for _cidr in MANAGEMENT_ALLOWED_NETWORKS:
    try:
        ipaddress.ip_network(_cidr, strict=False)
    except ValueError as _exc:
        raise ImproperlyConfigured(f"MANAGEMENT_ALLOWED_NETWORKS: {_cidr!r} is not a network") from _exc

# Celery: the broker is Redis when there is one, else kombu's filesystem transport
# under var/, which worker and beat on one machine share without any server.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
BROKER_DIR = VAR_DIR / "broker"
if CELERY_BROKER_URL.startswith("filesystem://"):
    for sub in ("queue", "processed", "control"):
        (BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
else:
    # A task that is not acknowledged within this many seconds goes to another worker;
    # it must exceed the longest task (the hard time limit below).
    # Short socket timeouts: a request that enqueues after its commit must learn in seconds
    # that the broker is down (the enqueue is then skipped and caught up, tasks_util).
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": 3600,
        "socket_connect_timeout": 2,
        "socket_timeout": 3,
    }
# Publishing: two attempts at most, then the caller's enqueue gives up (sla_portal.tasks_util).
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_ENABLE_UTC = True
CELERY_TASK_ACKS_LATE = True  # every task is idempotent: a redelivery after a crash is harmless
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# The SLA sweep has a queue of its own, which a worker of its own consumes (`-Q sla` in
# bin/run and docker-compose.yml): no backlog of mail, webhooks or reports can make it late.
# A worker started without -Q consumes both queues.
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_QUEUES = (Queue("celery"), Queue("sla"))
CELERY_TASK_ROUTES = {"sla.tasks.sla_sweep_task": {"queue": "sla"}}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],  # deny by default
    "DEFAULT_SCHEMA_CLASS": "sla_portal.schema.AutoSchema",  # spectacular's, with optional fields
    "DEFAULT_FILTER_BACKENDS": [
        "sla_portal.api.FilterBackend",  # ids of related objects compared, not looked up
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PARSER_CLASSES": [
        "sla_portal.api.JSONParser",  # DRF's, with a nesting limit
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "sla_portal.api.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"token_create": "10/min", "costly": "60/min", "ticket_create": "30/min"},
    # Unset, DRF keys throttles on the whole client-supplied X-Forwarded-For header.
    "NUM_PROXIES": TRUSTED_PROXIES,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "SLA Portal API",
    "DESCRIPTION": "Everything customers and staff do in the pages, with the same rules.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",  # served from our static files: no CDN at run time
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "TicketStatusEnum": "tickets.choices.TicketStatus",
        "TicketKindEnum": "tickets.choices.TicketKind",
        "ImpactEnum": "tickets.choices.Impact",
        "UrgencyEnum": "tickets.choices.Urgency",
        "PriorityEnum": "tickets.choices.Priority",
        "MessageKindEnum": "tickets.choices.MessageKind",
        "BugStatusEnum": "tickets.choices.BugStatus",
        "ClockKindEnum": "sla.models.ClockKind",
        "WebhookEventEnum": "accounts.models.WebhookEvent",
        "RoleEnum": "accounts.models.Role",
    },
}

# Hosts a webhook may be delivered to over plain HTTP (local test receivers only).
WEBHOOK_ALLOW_HTTP_HOSTS = env.list(
    "WEBHOOK_ALLOW_HTTP_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else []
)

# Networks a webhook may reach although they are internal (loopback, private, link-local...):
# empty by default, so registration and delivery refuse every such address. An operator with a
# receiver on the inside lists its network (CIDR), e.g. "10.1.2.0/24"; tests list loopback.
WEBHOOK_ALLOWED_NETWORKS = env.list("WEBHOOK_ALLOWED_NETWORKS", default=[])

# Vulnerability reports one client address may send per hour (the public form at
# /security/report/): enough for a researcher's follow-ups, too few to flood the managers.
SECURITY_REPORTS_PER_HOUR = env.int("SECURITY_REPORTS_PER_HOUR", default=5)

# How old the worker heartbeat may be before /healthz reports the worker as down.
HEARTBEAT_MAX_AGE_SECONDS = env.int("HEARTBEAT_MAX_AGE_SECONDS", default=180)

# How old the oldest undelivered e-mail may be before /healthz reports mail as failing.
MAIL_MAX_AGE_SECONDS = env.int("MAIL_MAX_AGE_SECONDS", default=3600)

# Backups (SPEC §10: a daily full copy in the maintenance window, data at most 24 h old):
# `manage.py backup` writes one directory per run under BACKUP_DIR; beat runs it daily and
# prunes copies older than BACKUP_RETENTION_DAYS.
BACKUP_DIR = Path(env.str("BACKUP_DIR", default=str(VAR_DIR / "backups")))
BACKUP_RETENTION_DAYS = env.int("BACKUP_RETENTION_DAYS", default=14)
# Where pg_dump and pg_restore are; empty: the client matching the server's major version in
# /usr/lib/postgresql/<major>/bin if there is one, else the first on PATH.
BACKUP_PG_BIN_DIR = env.str("BACKUP_PG_BIN_DIR", default="")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
