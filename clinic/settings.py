"""
Settings for the clinic site: one module, every knob read from the environment.

Defaults give a working site on one machine with nothing to install (the embedded PostgreSQL that
`make run` starts under var/postgres/, an in-process cache, a file-system Celery broker, e-mails
printed to the console). Set DATABASE_URL / REDIS_URL / EMAIL_HOST to run on your own PostgreSQL,
Redis and a real mail server.
With DEBUG off, production hardening switches on and SECRET_KEY becomes mandatory.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from clinic import embedded_db

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = embedded_db.var_dir()  # CLINIC_VAR_DIR, else var/ in the checkout
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


# --- Core -----------------------------------------------------------------------------------

DEBUG = env_bool("DEBUG", False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "dev-only-insecure-key-never-use-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# Public address used in e-mails, sitemaps, canonical links and the API's Location when there is
# no request. Under `make run` it follows WEB_PORT, the port runserver actually serves.
SITE_URL = (os.environ.get("SITE_URL") or f"http://localhost:{os.environ.get('WEB_PORT') or 8000}").rstrip("/")

INSTALLED_APPS = [
    "clinic.apps.ClinicAdminConfig",  # django.contrib.admin on a managers-only site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    # Before staticfiles so runserver serves through whitenoise too.
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "django.contrib.postgres",
    "crispy_forms",
    "crispy_bootstrap5",
    # Bootstrap's compiled CSS/JS, installed from PyPI at setup time (never committed, no CDN).
    "bootstrap",
    "treatments",
    "bookings",
    "staff",
]

MIDDLEWARE = [
    # First, so every log line of the request (even a redirect's) carries its id.
    "clinic.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "clinic.middleware.ContentSecurityPolicyMiddleware",
    # Outside whitenoise, so the static files runserver serves are compressed too (see the class).
    "clinic.middleware.CompressionMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # DEBUG only: a missing page is our own 404 page (Django's debug page is unstyled under our CSP).
    "clinic.middleware.DebugNotFoundPageMiddleware",
    # A view that loses its database connection answers 503 with a sentence, not a crash.
    "clinic.unavailable.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "clinic.urls"
WSGI_APPLICATION = "clinic.wsgi.application"

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
                "clinic.context_processors.clinic",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------------

# Without DATABASE_URL: the embedded PostgreSQL that `make run` starts (clinic/embedded_db.py), on
# a Unix socket under var/postgres/, so `manage.py shell` reaches it too while `make run` runs.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or embedded_db.database_url(VAR_DIR),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and Celery --------------------------------------------------------------------------

REDIS_URL = os.environ.get("REDIS_URL", "")

if REDIS_URL:
    CACHES = {
        "default": {
            # Django's RedisCache, except that an unreachable Redis is a miss, not an error page.
            "BACKEND": "clinic.cache.TolerantRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "clinic"),
            "TIMEOUT": env_int("CACHE_TIMEOUT", 3600),
            # A Redis that hangs costs a request at most this long per call, then counts as down.
            "OPTIONS": {
                "socket_connect_timeout": float(os.environ.get("CACHE_CONNECT_TIMEOUT", "0.5")),
                "socket_timeout": float(os.environ.get("CACHE_SOCKET_TIMEOUT", "1")),
            },
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "clinic",
            "TIMEOUT": env_int("CACHE_TIMEOUT", 3600),
        }
    }

# Request limits (django-ratelimit) count in this cache. While it is unreachable they let requests
# through (fail open): a Redis outage must not stop patients booking, and the limits are a brake
# on abuse, not a lock. Set RATELIMIT_FAIL_OPEN=0 to refuse (429) everything limited instead.
RATELIMIT_FAIL_OPEN = env_bool("RATELIMIT_FAIL_OPEN", True)

# Without Redis, Celery uses kombu's file-system transport under var/: worker, beat and web
# share a folder instead of a server, so `make run` needs nothing installed.
CELERY_BROKER_URL = REDIS_URL or "filesystem://"
if not REDIS_URL:
    _celery_dir = VAR_DIR / "celery"
    for _sub in ("queue", "processed", "control"):
        (_celery_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_celery_dir / "queue"),
        "data_folder_out": str(_celery_dir / "queue"),
        "processed_folder": str(_celery_dir / "processed"),
        "control_folder": str(_celery_dir / "control"),
        "store_processed": False,
    }
else:
    # Redis hands an unacknowledged message (acks_late tasks, retries waiting their countdown) to
    # another worker after this long: keep it above OUTBOX_RETRY_BACKOFF_MAX_SECONDS.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600)}
CELERY_TASK_IGNORE_RESULT = True
# One queue unless told otherwise (the worker tests give each run a queue of its own).
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_QUEUE", "celery")
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_TIMEZONE = "UTC"
# acks_late tasks (the e-mail senders): each worker process takes one batch at a time.
CELERY_WORKER_PREFETCH_MULTIPLIER = env_int("CELERY_WORKER_PREFETCH_MULTIPLIER", 1)
# What a task prints (the console e-mail backend of `make run`) is worker output, not a warning.
CELERY_WORKER_REDIRECT_STDOUTS_LEVEL = "INFO"
# Beat hands out due e-mails every minute (bookings/tasks.py); a tick not run within the minute
# is dropped, as the next one does the same work.
CELERY_BEAT_SCHEDULE = {
    "dispatch-due-emails": {"task": "bookings.tasks.dispatch_due", "schedule": 60.0, "options": {"expires": 55}},
    "expire-waitlist-offers": {
        "task": "bookings.tasks.waitlist_offers_expire", "schedule": 60.0, "options": {"expires": 55}
    },
}

# --- Auth, i18n, time ---------------------------------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "staff:login"
# Failed sign-ins (bookings/ratelimits.py, counted in the shared cache so every web process agrees;
# correct ones never count): per client address, per username from one address, and per username
# from anywhere, which pauses the account only at addresses it has not signed in from within
# STAFF_LOGIN_KNOWN_ADDRESS_DAYS. django-ratelimit rates: "<count>/<n><s|m|h|d>".
STAFF_LOGIN_RATE_PER_IP = os.environ.get("STAFF_LOGIN_RATE_PER_IP", "20/15m")
STAFF_LOGIN_RATE_PER_USERNAME = os.environ.get("STAFF_LOGIN_RATE_PER_USERNAME", "5/15m")
STAFF_LOGIN_RATE_PER_USERNAME_ANYWHERE = os.environ.get("STAFF_LOGIN_RATE_PER_USERNAME_ANYWHERE", "30/15m")
STAFF_LOGIN_KNOWN_ADDRESS_DAYS = env_int("STAFF_LOGIN_KNOWN_ADDRESS_DAYS", 90)
# Behind a reverse proxy every request comes from the proxy's address, so the per-address limit
# would count the whole clinic as one client: name the header the proxy sets with the client's
# address (e.g. HTTP_X_REAL_IP, or HTTP_X_FORWARDED_FOR, whose last entry the proxy appended).
CLIENT_IP_HEADER = os.environ.get("CLIENT_IP_HEADER", "")

# --- Patients' data ------------------------------------------------------------------------------

# A manage link stops working this many days after its series is over (last session ended, or the
# series cancelled); the patient then calls the clinic.
MANAGE_LINK_VALID_DAYS = env_int("MANAGE_LINK_VALID_DAYS", 30)
# `manage.py anonymise_patients` removes the personal details of patients whose last appointment
# ended longer ago than this (about seven years, the usual retention for clinical records).
PATIENT_RETENTION_DAYS = env_int("PATIENT_RETENTION_DAYS", 2555)

# --- Recording what happened to a session (bookings/availability.py status_window_problem) -----------

# Check-in opens this long before a session starts (and closes at the end of its day): checking in
# earlier would cancel the patient's reminders and close their online changes days ahead.
CHECK_IN_OPENS_MINUTES = env_int("CHECK_IN_OPENS_MINUTES", 120)
# A no-show may be recorded this long after the start, not before (a patient running late).
NO_SHOW_GRACE_MINUTES = env_int("NO_SHOW_GRACE_MINUTES", 15)

# --- Abuse limits (bookings/ratelimits.py) --------------------------------------------------------

# Requests per client address (CLIENT_IP_HEADER), counted in the shared cache; more get a 429 page
# (JSON for the API) asking to wait. Generous for a person, tight for a script.
BOOKING_POST_RATE = os.environ.get("BOOKING_POST_RATE", "60/10m")  # the /book/ steps' POSTs
API_BOOKING_RATE = os.environ.get("API_BOOKING_RATE", "30/10m")  # POST /api/series/
AVAILABILITY_API_RATE = os.environ.get("AVAILABILITY_API_RATE", "300/10m")  # GET /api/availability/
MANAGE_LINK_RATE = os.environ.get("MANAGE_LINK_RATE", "120/10m")  # any request to a manage link

LANGUAGE_CODE = "en-gb"
# Every appointment is shown and planned in the clinic's wall-clock zone; stored in UTC.
TIME_ZONE = os.environ.get("CLINIC_TIME_ZONE", "Europe/London")
USE_I18N = True
USE_TZ = True

# --- Static and media ---------------------------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Hashed, compressed names in production (collectstatic); plain files while developing.
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Uploads larger than this are refused before Django reads them into memory.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 2_621_440)
FILE_UPLOAD_MAX_MEMORY_SIZE = DATA_UPLOAD_MAX_MEMORY_SIZE

# --- Explainer pages (treatments app) --------------------------------------------------------------

# A web process trusts its in-memory copy of a cached page this long before checking the shared
# cache again: other processes show a staff edit at most this many seconds late. 0 turns it off.
EXPLAINER_LOCAL_CACHE_SECONDS = float(os.environ.get("EXPLAINER_LOCAL_CACHE_SECONDS", "1"))
# Pictures staff upload: larger files, or more pixels, are refused with an explanation.
TREATMENT_IMAGE_MAX_BYTES = env_int("TREATMENT_IMAGE_MAX_BYTES", 10 * 1024 * 1024)
TREATMENT_IMAGE_MAX_PIXELS = env_int("TREATMENT_IMAGE_MAX_PIXELS", 40_000_000)

# --- E-mail --------------------------------------------------------------------------------------

EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 587)
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", EMAIL_PORT == 587)
    EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
    EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 20)
else:
    # A newcomer sees every e-mail in the `make run` console.
    EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Clinic <bookings@clinic.example>")
SERVER_EMAIL = os.environ.get("SERVER_EMAIL", DEFAULT_FROM_EMAIL)

# --- The clinic ----------------------------------------------------------------------------------

CLINIC_NAME = os.environ.get("CLINIC_NAME", "Northlight Skin Clinic")
CLINIC_PHONE = os.environ.get("CLINIC_PHONE", "+44 20 7946 0321")
CLINIC_EMAIL = os.environ.get("CLINIC_EMAIL", "hello@clinic.example")
# The address in parts, as search engines read it (schema.org PostalAddress on the home page);
# CLINIC_ADDRESS is the one line pages and e-mails print (built from the parts unless set).
CLINIC_STREET = os.environ.get("CLINIC_STREET", "12 Example Street")
CLINIC_LOCALITY = os.environ.get("CLINIC_LOCALITY", "London")
CLINIC_POSTCODE = os.environ.get("CLINIC_POSTCODE", "")
CLINIC_COUNTRY = os.environ.get("CLINIC_COUNTRY", "GB")  # ISO 3166-1 alpha-2
CLINIC_ADDRESS = os.environ.get(
    "CLINIC_ADDRESS", ", ".join(part for part in (CLINIC_STREET, CLINIC_LOCALITY, CLINIC_POSTCODE) if part)
)
# Prices on the pages (treatments' fields) are in this currency, ISO 4217; nothing is charged online.
CURRENCY = os.environ.get("CURRENCY", "GBP")
# A change to a series waits this long for its lock (someone else changing the same series, or the
# same practitioner's diary) before the person is told "busy, try again" (bookings/locks.py).
BOOKING_LOCK_TIMEOUT_SECONDS = float(os.environ.get("BOOKING_LOCK_TIMEOUT_SECONDS", "5"))
# A waitlist offer holds the freed time this long for the patient it is offered to; then the next
# waiting patient gets it (bookings/waitlist_services.py).
WAITLIST_HOLD_MINUTES = env_int("WAITLIST_HOLD_MINUTES", 120)

# --- E-mail outbox: reminders, aftercare, confirmations (bookings/outbox.py, bookings/tasks.py) ----

# Alerts about series with no next session booked go here.
FRONT_DESK_EMAIL = os.environ.get("FRONT_DESK_EMAIL", CLINIC_EMAIL)
# The dispatcher claims due e-mails in batches of this many (one task, one SMTP connection each),
# at most OUTBOX_DISPATCH_LIMIT per run.
OUTBOX_BATCH_SIZE = env_int("OUTBOX_BATCH_SIZE", 100)
OUTBOX_DISPATCH_LIMIT = env_int("OUTBOX_DISPATCH_LIMIT", 20_000)
# A mail-server error is retried after 60 s, 120 s, 240 s… (capped), then the e-mail is failed.
OUTBOX_MAX_ATTEMPTS = env_int("OUTBOX_MAX_ATTEMPTS", 6)
OUTBOX_RETRY_BACKOFF_SECONDS = float(os.environ.get("OUTBOX_RETRY_BACKOFF_SECONDS", "60"))
OUTBOX_RETRY_BACKOFF_MAX_SECONDS = float(os.environ.get("OUTBOX_RETRY_BACKOFF_MAX_SECONDS", "1800"))
# A batch still "sending" after this long belonged to a worker that died: it is handed out again.
# Keep it above the longest backoff plus a batch's sending time.
OUTBOX_CLAIM_LEASE_SECONDS = float(os.environ.get("OUTBOX_CLAIM_LEASE_SECONDS", "3600"))

# --- Logging -------------------------------------------------------------------------------------

# One JSON object per line for a log collector (the default in production), or plain lines for a
# person at a terminal (the default while developing). Every line carries the request's id
# (X-Request-ID, clinic/middleware.py). Patients' names, e-mails, phones and answers are never logged.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "plain" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "clinic.logs.RequestIdFilter"},
        "manage_link": {"()": "clinic.logs.ManageLinkFilter"},
    },
    "formatters": {
        "json": {"()": "clinic.logs.JsonFormatter"},
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id", "manage_link"],
            "formatter": "json" if LOG_FORMAT == "json" else "plain",
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- Production hardening (DEBUG off) -------------------------------------------------------------

# No inline script anywhere (static/js/ holds our scripts). Style *attributes* stay allowed
# (style-src-attr): the staff diary positions each appointment with CSS variables computed from
# the data; <style> elements and stylesheets from elsewhere are still refused.
CONTENT_SECURITY_POLICY = os.environ.get(
    "CONTENT_SECURITY_POLICY",
    "default-src 'self'; script-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # Behind a TLS-terminating proxy that sets X-Forwarded-Proto (see README, Deploy).
    if env_bool("SECURE_PROXY_SSL_HEADER", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
