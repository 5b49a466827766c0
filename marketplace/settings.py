"""Settings for the add-on marketplace, read from the environment.

The embedded default is one SQLite file under var/ and django-q2's ORM broker; set
DATABASE_URL and REDIS_URL to run the same code on PostgreSQL and Redis.

Every environment variable is read here, through `env` (marketplace/env.py), and listed in the
README's settings table (tests/test_settings_table.py holds the two together). Importing this
module writes nothing: var/ and the development SECRET_KEY file are made when Django starts
(marketplace/apps.py). Sections: environment and security; Django; database, cache and
tasks; API; logging; then the domain's own settings (invocation, outbound calls, recordings,
billing, credentials).
"""

from datetime import timedelta
from os import getpid
from pathlib import Path

import csp.constants
import dj_database_url

from marketplace import local_state
from marketplace.env import Env

env = Env()

# --- Environment and security -------------------------------------------------------------

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env.str("MARKETPLACE_VAR_DIR", str(BASE_DIR / "var")))

# Production: HTTPS only, secure cookies, HSTS, JSON logs, and a SECRET_KEY from the environment.
PRODUCTION = env.str("MARKETPLACE_ENV", "development") == "production"
if PRODUCTION and len(env.str("SECRET_KEY")) < 50:
    raise RuntimeError("In production SECRET_KEY must come from the environment (50 characters or more)")

# SECRET_KEY from the environment, else (development) one generated once and kept under var/.
SECRET_KEY = env.str("SECRET_KEY")
SECRET_KEY_FILE = None if SECRET_KEY else VAR_DIR / "secret_key"
if SECRET_KEY_FILE is not None:
    SECRET_KEY = local_state.read_secret_key(SECRET_KEY_FILE)
DEBUG = env.flag("DEBUG") and not PRODUCTION
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", "127.0.0.1,localhost")

CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS")
if PRODUCTION:
    # Behind a TLS-terminating proxy that sets X-Forwarded-Proto.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    # Load balancers probe these over plain HTTP from inside the network.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", 365 * 24 * 3600)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
# Content-Security-Policy (django-csp) on every page, console and admin alike: scripts and
# styles only from our own static files, or inline with the request's nonce; nothing
# framed, no plugins, forms only to us. Payload downloads set a stricter one of their own.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", csp.constants.NONCE],
        "style-src": ["'self'", csp.constants.NONCE],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# Absolute base for `url` fields, `links` and the callback URLs handed to publishers.
MARKETPLACE_BASE_URL = env.str("MARKETPLACE_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

# --- Django ---------------------------------------------------------------------------------

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_jsonform",
    "django_q",
    "axes",
    "marketplace",
    "accounts",
    "addons",
    "billing",
    "invocation",
    "recordings",
    "console",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "marketplace.outages.UnavailableMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

# Twilio's paths have no trailing slash; never redirect an API call to add one.
APPEND_SLASH = False

ROOT_URLCONF = "marketplace.urls"

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
                "console.context_processors.console",
            ],
        },
    },
]

WSGI_APPLICATION = "marketplace.wsgi.application"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Serve the apps' static files even before collectstatic has run (a fresh clone, tests).
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# --- Database, cache and tasks --------------------------------------------------------------


def _database():
    url = env.str("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'marketplace.sqlite3'}"
    # Production keeps connections open a minute: reconnecting for almost every query was
    # the largest cost per recording on PostgreSQL (bench_recordings).
    max_age = env.int("CONN_MAX_AGE", 60 if PRODUCTION else 0)
    config = dj_database_url.parse(url, conn_max_age=max_age, conn_health_checks=max_age > 0)
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # A web server and a qcluster write one file at once: WAL, a busy timeout and
        # immediate transactions keep them from meeting "database is locked". Connections
        # stay open (nothing is held on a server): opening one, with its PRAGMAs, was ~8 %
        # of a lookup's time in gunicorn (py-spy, bench_lookup_overhead).
        config["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", 60)
        config["CONN_HEALTH_CHECKS"] = False
        config["OPTIONS"] = {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
        # A file, not memory, so the test suite can share it with a real qcluster process.
        # One per test run (its pid), so two runs on one machine never share it.
        config["TEST"] = {"NAME": str(VAR_DIR / f"test_marketplace_{getpid()}.sqlite3")}
    return config


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL")

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            # An unreachable Redis fails fast (rate limits and circuits then fail open), not after
            # the operating system's connect timeout.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "marketplace_cache"}}

Q_CLUSTER = {
    "name": "marketplace",
    "workers": env.int("Q_WORKERS", 2),
    # A task's longest run; a publisher call is bounded well below it.
    "timeout": env.int("Q_TIMEOUT", 60),
    # Unacknowledged tasks (a worker died mid-task) are redelivered after this: above timeout.
    "retry": env.int("Q_RETRY", 90),
    "max_attempts": 5,
    "poll": env.float("Q_POLL", 0.2),
    "catch_up": False,
    "label": "Tasks",
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"
# Run django-q2 tasks in the caller's process (tests); the cluster runs them otherwise.
TASKS_SYNC = env.flag("TASKS_SYNC")

# --- Logins ---------------------------------------------------------------------------------

# Logins (console and admin alike) go through django-axes: after LOGIN_FAILURE_LIMIT wrong
# passwords for one username, that username is refused, even with the right password, for
# LOGIN_LOCKOUT_MINUTES (each further attempt starts the wait again). Per username, not per
# address: behind the TLS proxy every client has the proxy's address, and a guesser changes
# addresses at will.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env.float("LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username"]
# axes.W006 asks for the address as a lockout parameter too; here that would lock every user
# behind the proxy out together, and rotating user agents or cookies does not lift a lock by
# username, which is what the warning fears.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "console.views.locked_out"

LOGIN_URL = "console:login"
LOGIN_REDIRECT_URL = "console:dashboard"

# --- API ------------------------------------------------------------------------------------

# Requests per account to the API, across every web process (DRF's "N/s", "N/m", "N/h").
API_RATE_LIMIT = env.str("API_RATE_LIMIT", "100/s")
# And, on top, for the publisher endpoints (usage reports, listings, test invocations).
PUBLISHER_API_RATE_LIMIT = env.str("PUBLISHER_API_RATE_LIMIT", "20/s")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.api.auth.TwilioBasicAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
        "marketplace.api.parsers.JSONParser",  # depth- and content-limited (untrusted_json)
    ],
    "EXCEPTION_HANDLER": "marketplace.api.errors.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["marketplace.api.throttling.AccountRateThrottle"],
    "UNAUTHENTICATED_USER": None,
    # The OpenAPI description (/openapi.json, /docs/): operations declared beside each view (marketplace/api/openapi.py).
    "DEFAULT_SCHEMA_CLASS": "marketplace.api.openapi.MarketplaceAutoSchema",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Add-on Marketplace API",
    "DESCRIPTION": (
        "A self-hostable Twilio Marketplace: Marketplace v1, the 2010-04-01 paths it touches, Lookups v1 "
        "with add-ons, the debugger, the sandbox and publishers' endpoints. Input is form-encoded PascalCase, "
        "output snake_case JSON in Twilio's envelopes; errors are Twilio bodies `{code, message, more_info, status}`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "POSTPROCESSING_HOOKS": ["marketplace.api.schema.add_plain_django_views"],
    "ENUM_GENERATE_CHOICE_DESCRIPTION": False,
    # The docs page's assets are served by us (drf-spectacular-sidecar), never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # No badge fetched from swagger.io's online validator.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
}

# --- Logging --------------------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_sid": {"()": "marketplace.logs.RequestSidDefault"},
        "redact_tokens": {"()": "marketplace.logs.RedactTokens"},
    },
    "formatters": {
        "json": {"()": "marketplace.logs.MarketplaceJsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_sid)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_sid", "redact_tokens"],
            "formatter": env.str("LOG_FORMAT", "json" if PRODUCTION else "text"),
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # runserver's request lines, through our handler so its redaction applies to them too.
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}

# --- Invoking publishers -------------------------------------------------------------------

# Threads shared by every request's fan-out, and the response size limits of the publisher
# guide (bytes) by add-on type.
INVOCATION_THREADS = env.int("INVOCATION_THREADS", 64)
ADDON_RESPONSE_LIMITS = {
    "phone_number": 50 * 1024,
    "message_analysis": 64 * 1024,
    "recording_analysis": 100 * 1024 * 1024,
}
# Circuit breaker per publisher endpoint: this many failures in a row pause calls for the
# cooldown; then one probe decides.
CIRCUIT_FAILURES = env.int("CIRCUIT_FAILURES", 5)
CIRCUIT_COOLDOWN_S = env.float("CIRCUIT_COOLDOWN_S", 30)
CIRCUIT_PROBE_TIMEOUT_S = 10
# How long a worker waits for a restarting database to record a call it already made.
DATABASE_OUTAGE_RETRY_S = env.float("DATABASE_OUTAGE_RETRY_S", 20)
# Where `demo_data` points the demo listings (the example publishers of `publishers/`).
EXAMPLE_PUBLISHERS_URL = env.str("EXAMPLE_PUBLISHERS_URL", "http://127.0.0.1:8101")

# --- Outbound calls -------------------------------------------------------------------------

# Publishers' and customers' URLs may reach private, loopback or metadata addresses only when
# this is on (development and tests, where everything is on loopback).
OUTBOUND_ALLOW_PRIVATE = env.flag("OUTBOUND_ALLOW_PRIVATE", default=not PRODUCTION)
# Calls to the customer's own URLs (sandbox webhooks, result notifications): the deadline for
# the whole exchange (connect, send, headers, body), and how many sandbox requests and result
# notifications one account may have in flight across all processes.
WEBHOOK_TIMEOUT_S = env.float("WEBHOOK_TIMEOUT_S", 5)
WEBHOOK_MAX_IN_FLIGHT = env.int("WEBHOOK_MAX_IN_FLIGHT", 4)
NOTIFY_MAX_IN_FLIGHT = env.int("NOTIFY_MAX_IN_FLIGHT", 1)
# Pauses between attempts to deliver a result notification to the customer.
NOTIFY_BACKOFF_S = [float(s) for s in env.list("NOTIFY_BACKOFF_S", "1,4,16")]

# --- Recordings and their asynchronous add-ons ----------------------------------------------

RECORDING_MAX_BYTES = env.int("RECORDING_MAX_BYTES", 50 * 1024 * 1024)
# A publisher has 10 x the audio's duration to call back, and never less than this floor.
RESULT_DEADLINE_FACTOR = 10
RESULT_DEADLINE_FLOOR_S = env.int("RESULT_DEADLINE_FLOOR_S", 60)
# Callback bodies: streamed to storage up to this size; parsed and checked up to the second.
CALLBACK_MAX_BYTES = env.int("CALLBACK_MAX_BYTES", 100 * 1024 * 1024)
CALLBACK_PARSE_MAX_BYTES = env.int("CALLBACK_PARSE_MAX_BYTES", 10 * 1024 * 1024)
# Signed payload download URLs (the Data resource's redirect_to) expire after this.
PAYLOAD_URL_TTL_S = env.int("PAYLOAD_URL_TTL_S", 600)
# Where those URLs point (empty: MARKETPLACE_BASE_URL). A separate origin (a host name served
# by the same web processes, listed in ALLOWED_HOSTS) keeps publishers' bytes off the console's.
PAYLOAD_DOWNLOAD_ORIGIN = env.str("PAYLOAD_DOWNLOAD_ORIGIN").rstrip("/")
# A worker's hold on a result it is sending; past it (the worker died) another may take it.
DISPATCH_LEASE_S = env.int("DISPATCH_LEASE_S", Q_CLUSTER["timeout"] + 30)
# A callback's claim on its result while it streams; past it (the database restarted before
# the result was stored) the publisher's retry may claim it again.
CALLBACK_CLAIM_LEASE_S = env.int("CALLBACK_CLAIM_LEASE_S", 300)

# --- Billing --------------------------------------------------------------------------------

# The platform's transaction fee on publishers' gross earnings, in percent (a decimal string).
MARKETPLACE_FEE_PERCENT = env.str("MARKETPLACE_FEE_PERCENT", "20")
# Caps on manual usage, per billable item: in one report, and on one installation in a UTC
# day. A billable item's manifest may set lower ones (max_per_report, max_per_day).
USAGE_MAX_QUANTITY_PER_REPORT = env.str("USAGE_MAX_QUANTITY_PER_REPORT", "100000")
USAGE_MAX_QUANTITY_PER_DAY = env.str("USAGE_MAX_QUANTITY_PER_DAY", "1000000")

# --- Credentials at rest --------------------------------------------------------------------

# Fernet keys sealing publishers' credentials at rest, comma-separated, newest first: the
# first seals, any opens (derived from SECRET_KEY when unset). addons/credentials.py.
CREDENTIALS_KEY = env.str("CREDENTIALS_KEY")
