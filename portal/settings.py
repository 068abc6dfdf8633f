"""Upload Portal settings: one module, driven by environment variables.

Every default is the embedded one (SQLite, a file-based Celery broker, moto on 127.0.0.1
for AWS), so `make run` needs no configuration. Production sets the variables listed in
README.md.
"""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
# A local .env is convenient for developers; the environment always wins.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise environ.ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = "insecure-dev-key-only-for-the-embedded-default"  # noqa: S105

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])

# Origins the browser uses to reach the portal: trusted for CSRF and allowed by the
# bucket's CORS rule (setup_storage).
PORTAL_ORIGINS = env.list("PORTAL_ORIGINS", default=["http://127.0.0.1:8000", "http://localhost:8000"])
CSRF_TRUSTED_ORIGINS = PORTAL_ORIGINS

# How many reverse proxies in front of the portal append to X-Forwarded-For. 0 means the
# socket peer is the client; see portal.net.client_ip.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "allauth.mfa",
    "accounts",
    "uploads",
    "audit",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "audit.context.AuditContextMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

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
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://portal")}

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Sign-in (django-allauth). Customers never self-register: see accounts.adapters.
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "project_list"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = "username"
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
SOCIALACCOUNT_ADAPTER = "accounts.adapters.SocialAccountAdapter"
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_SESSION_REMEMBER = False

SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=12 * 3600)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_COOKIES = env.bool("SECURE_COOKIES", default=not DEBUG)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env.bool("BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# The browser libraries are served from their npm dist folders (installed by make, not
# committed), so the uploader needs no bundler and no CDN.
STATICFILES_DIRS = [
    (f"vendor/{name}", BASE_DIR / "node_modules" / name / "dist")
    for name in ("aws4fetch", "hash-wasm")
    if (BASE_DIR / "node_modules" / name / "dist").is_dir()
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = DEBUG

# Email: the embedded default writes messages to files under var/mail.
EMAIL_CONFIG = env.email_url("EMAIL_URL", default=f"filemail://{VAR_DIR / 'mail'}")
vars().update(EMAIL_CONFIG)
if EMAIL_CONFIG.get("EMAIL_BACKEND", "").endswith("filebased.EmailBackend"):
    EMAIL_FILE_PATH = EMAIL_CONFIG.get("EMAIL_FILE_PATH") or str(VAR_DIR / "mail")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Upload Portal <portal@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# AWS. AWS_ENDPOINT_URL is what the server calls (moto locally, empty for real AWS);
# AWS_PUBLIC_ENDPOINT_URL is what the browser signs for, which differs inside
# docker-compose where the server reaches S3 by service name.
AWS_ENDPOINT_URL = env.str("AWS_ENDPOINT_URL", default="http://127.0.0.1:5000") or None
AWS_PUBLIC_ENDPOINT_URL = env.str("AWS_PUBLIC_ENDPOINT_URL", default="") or AWS_ENDPOINT_URL
AWS_REGION = env.str("AWS_REGION", default="us-east-1")
UPLOAD_BUCKET = env.str("UPLOAD_BUCKET", default="upload-portal")
UPLOADER_ROLE_ARN = env.str(
    "UPLOADER_ROLE_ARN", default="arn:aws:iam::123456789012:role/upload-portal-uploader"
)
UPLOAD_KMS_KEY_ID = env.str("UPLOAD_KMS_KEY_ID", default="")
# Lifetime of credentials vended to browsers and the CLI; STS allows 900 s and up.
UPLOAD_CREDENTIALS_SECONDS = env.int("UPLOAD_CREDENTIALS_SECONDS", default=900)
# The AWS CLI cannot refresh vended credentials mid-copy, so it gets a longer lifetime
# (role chaining caps AssumeRole at one hour).
UPLOAD_CLI_CREDENTIALS_SECONDS = env.int("UPLOAD_CLI_CREDENTIALS_SECONDS", default=3600)
for _name in ("UPLOAD_CREDENTIALS_SECONDS", "UPLOAD_CLI_CREDENTIALS_SECONDS"):
    if not 900 <= vars()[_name] <= 3600:
        raise environ.ImproperlyConfigured(f"{_name} must be between 900 and 3600 seconds")
# Presigned staff downloads live at most this long.
STAFF_DOWNLOAD_SECONDS = min(env.int("STAFF_DOWNLOAD_SECONDS", default=900), 900)
# /progress calls closer together than this are answered but not acted on.
UPLOAD_PROGRESS_INTERVAL_SECONDS = env.int("UPLOAD_PROGRESS_INTERVAL_SECONDS", default=30)
# An upload with no progress report for this long is shown as stalled.
UPLOAD_STALLED_AFTER_SECONDS = env.int("UPLOAD_STALLED_AFTER_SECONDS", default=900)
# Part planning: S3 allows 5 MiB..5 GiB per part and 10,000 parts. Tests lower these.
UPLOAD_MIN_PART_SIZE = env.int("UPLOAD_MIN_PART_SIZE", default=8 * 1024 * 1024)
UPLOAD_PART_SIZE_UNIT = env.int("UPLOAD_PART_SIZE_UNIT", default=1024 * 1024)
UPLOAD_ABORT_INCOMPLETE_DAYS = env.int("UPLOAD_ABORT_INCOMPLETE_DAYS", default=7)

# Celery: Redis in production and CI, kombu's filesystem transport in the embedded default.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue_dir = VAR_DIR / "celery"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir / "queue"),
        "data_folder_out": str(_queue_dir / "queue"),
        "processed_folder": str(_queue_dir / "processed"),
        "store_processed": False,
    }
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # botocore at DEBUG prints request headers, which carry session tokens.
        "botocore": {"level": "WARNING"},
        "boto3": {"level": "WARNING"},
        "urllib3": {"level": "WARNING"},
    },
}
