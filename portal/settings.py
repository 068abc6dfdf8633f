"""Upload Portal settings: one module, driven by environment variables.

Every default is the embedded one (SQLite, a file-based Celery broker, moto on 127.0.0.1
for AWS), so `make run` needs no configuration. Production sets the variables listed in
README.md.
"""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
# Where the embedded stack keeps its state (SQLite database, queue, mail, beat schedule).
VAR_DIR = Path(env.str("PORTAL_VAR_DIR", default=str(BASE_DIR / "var"))).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)

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
    # The project itself: management commands that span the apps (seed_demo).
    "portal",
]

MIDDLEWARE = [
    "portal.views.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "portal.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "audit.middleware.AuditContextMiddleware",
    "accounts.middleware.RequireMFAMiddleware",
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
            "builtins": ["portal.templatetags.portal_format"],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # The audit chain appends under a lock; IMMEDIATE takes SQLite's write lock at BEGIN
    # so concurrent writers queue instead of failing with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {})["transaction_mode"] = "IMMEDIATE"
    # A file, not Django's shared in-memory test database, so the live server's threads
    # get their own connections and transactions as they do in production.
    DATABASES["default"].setdefault("TEST", {})["NAME"] = str(VAR_DIR / "test-db.sqlite3")
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

# Sign-in (django-allauth). Customers never self-register: a consultant invites them
# (accounts.invitations); accounts.adapters refuses everything else. See docs/sign-in.md.
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
ACCOUNT_PREVENT_ENUMERATION = True
# Failed sign-ins per address and per IP, counted in the default cache: Redis in production
# (CACHE_URL=redis://...), local memory in the embedded default (one process only).
ACCOUNT_RATE_LIMITS = {
    "login_failed": env.str("LOGIN_FAILED_RATE_LIMIT", default="10/m/ip,5/5m/key"),
    "login": env.str("LOGIN_RATE_LIMIT", default="30/m/ip"),
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "reauthenticate": "10/m/user",
    "change_password": "5/m/user",
}
# Linking is decided by accounts.adapters.SocialAccountAdapter alone: allauth's own
# email matching could connect an identity to a staff account or wipe its password.
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = False
SOCIALACCOUNT_AUTO_SIGNUP = False
SOCIALACCOUNT_EMAIL_VERIFICATION = "none"
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_LOGIN_ON_GET = False
SOCIALACCOUNT_ONLY = False


def _oidc_apps() -> list[dict]:
    """Amazon Cognito (COGNITO_*) plus any further OpenID Connect IdPs given as JSON in
    OIDC_EXTRA_PROVIDERS: [{"provider_id", "name", "client_id", "secret", "server_url"}]."""
    apps = []
    cognito_url = env.str("COGNITO_SERVER_URL", default="")
    if cognito_url:
        apps.append(
            {
                "provider_id": "cognito",
                "name": env.str("COGNITO_BUTTON_NAME", default="SSO"),
                "client_id": env.str("COGNITO_CLIENT_ID"),
                "secret": env.str("COGNITO_CLIENT_SECRET", default=""),
                "settings": {"server_url": cognito_url, "oauth_pkce_enabled": True},
            }
        )
    for extra in env.json("OIDC_EXTRA_PROVIDERS", default=[]):
        apps.append(
            {
                "provider_id": extra["provider_id"],
                "name": extra.get("name", extra["provider_id"]),
                "client_id": extra["client_id"],
                "secret": extra.get("secret", ""),
                "settings": {"server_url": extra["server_url"], "oauth_pkce_enabled": True},
            }
        )
    return apps


SOCIALACCOUNT_PROVIDERS = {
    "openid_connect": {"OAUTH_PKCE_ENABLED": True, "APPS": _oidc_apps()},
}

# Who holds customers' passwords and MFA (accounts/directories/): "local" (the portal, the
# default) or "cognito" (the user pool: invitations create the Cognito user, disabling a
# customer disables it there, customers sign in through managed login only). A dotted path
# to an accounts.directories.Directory subclass plugs in another. See docs/deploy.md.
CUSTOMER_DIRECTORY = env.str("CUSTOMER_DIRECTORY", default="local")
# The pool's id; by default the last path segment of COGNITO_SERVER_URL.
COGNITO_USER_POOL_ID = (
    env.str("COGNITO_USER_POOL_ID", default="")
    or env.str("COGNITO_SERVER_URL", default="").rstrip("/").rpartition("/")[2]
)
COGNITO_CLIENT_ID = env.str("COGNITO_CLIENT_ID", default="")
# True: Cognito emails its own invitation (temporary password); False: it stays silent and
# the portal's invitation email leads to the SSO button.
COGNITO_SENDS_INVITATION = env.bool("COGNITO_SENDS_INVITATION", default=False)

# MFA: authenticator apps and recovery codes. Staff must have one before reaching admin,
# customers when their organisation requires it (accounts.middleware.RequireMFAMiddleware).
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = env.str("MFA_TOTP_ISSUER", default="Upload Portal")
MFA_FORMS = {"activate_totp": "accounts.forms.StableActivateTOTPForm"}

INVITATION_VALID_DAYS = env.int("INVITATION_VALID_DAYS", default=7)

SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=12 * 3600)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_FAILURE_VIEW = "portal.views.csrf_failure"
SECURE_COOKIES = env.bool("SECURE_COOKIES", default=not DEBUG)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
BEHIND_TLS_PROXY = env.bool("BEHIND_TLS_PROXY", default=False)
if BEHIND_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https"
# Behind TLS the portal is https only: plain http is redirected and browsers are told to
# remember it. (The load balancer's health check, plain http inside the VPC, is answered
# before this by portal.views.HealthCheckMiddleware.)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=BEHIND_TLS_PROXY)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000 if BEHIND_TLS_PROXY else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = False
SILENCED_SYSTEM_CHECKS = [
    # HSTS for subdomains and the preload list bind every host of the consultancy's domain,
    # which is theirs to decide (SECURE_HSTS_INCLUDE_SUBDOMAINS), not the portal's.
    "security.W005",
    "security.W021",
]

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
_email_url = env.str("EMAIL_URL", default=f"filemail://{VAR_DIR / 'mail'}")
EMAIL_CONFIG = environ.Env.email_url_config(_email_url)
vars().update(EMAIL_CONFIG)
if EMAIL_CONFIG.get("EMAIL_BACKEND", "").endswith("filebased.EmailBackend"):
    # django-environ drops the leading "/" of filemail:///abs/path; take the URL's path.
    from urllib.parse import urlsplit

    EMAIL_FILE_PATH = urlsplit(_email_url).path or str(VAR_DIR / "mail")
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
# The bucket policy (deny non-TLS, deny SSE-C, revocations) is made of conditional denies.
# moto ignores conditions, so on it every conditional deny refuses everything: by default
# the policy is written only against real AWS (no AWS_ENDPOINT_URL).
UPLOAD_BUCKET_POLICY = env.bool("UPLOAD_BUCKET_POLICY", default=AWS_ENDPOINT_URL is None)
# What `manage.py check_aws` checks, in order (uploads/preflight/): one Check class each.
PREFLIGHT_CHECKS = [
    "uploads.preflight.storage.BucketExists",
    "uploads.preflight.storage.BucketVersioning",
    "uploads.preflight.storage.BucketEncryption",
    "uploads.preflight.storage.PublicAccessBlock",
    "uploads.preflight.storage.AbortIncompleteUploads",
    "uploads.preflight.storage.BucketCors",
    "uploads.preflight.storage.BucketPolicy",
    "uploads.preflight.credentials.AssumeUploaderRole",
    "uploads.preflight.credentials.VendedCredentialsScope",
    "uploads.preflight.identity.CognitoDiscovery",
    "uploads.preflight.identity.CognitoCallback",
    "uploads.preflight.email.EmailDelivery",
    "uploads.preflight.clock.ClockSkew",
]
# Lifetime of credentials vended to browsers and the CLI; STS allows 900 s and up.
UPLOAD_CREDENTIALS_SECONDS = env.int("UPLOAD_CREDENTIALS_SECONDS", default=900)
# The AWS CLI cannot refresh vended credentials mid-copy, so it gets a longer lifetime
# (role chaining caps AssumeRole at one hour).
UPLOAD_CLI_CREDENTIALS_SECONDS = env.int("UPLOAD_CLI_CREDENTIALS_SECONDS", default=3600)
# The slowest copy the CLI credentials are planned for (bytes a second): 2 MiB/s.
UPLOAD_CLI_MIN_SPEED = env.int("UPLOAD_CLI_MIN_SPEED", default=2 * 1024 * 1024)
for _name in ("UPLOAD_CREDENTIALS_SECONDS", "UPLOAD_CLI_CREDENTIALS_SECONDS"):
    if not 900 <= vars()[_name] <= 3600:
        raise environ.ImproperlyConfigured(f"{_name} must be between 900 and 3600 seconds")
# Presigned staff downloads live at most this long.
STAFF_DOWNLOAD_SECONDS = min(env.int("STAFF_DOWNLOAD_SECONDS", default=900), 900)
# /progress calls closer together than this are answered but not acted on.
UPLOAD_PROGRESS_INTERVAL_SECONDS = env.int("UPLOAD_PROGRESS_INTERVAL_SECONDS", default=30)
# How often an open project page asks for its sections again while something on it is still
# changing (uploads in flight or being verified); four times less often when nothing is.
PROJECT_PAGE_POLL_SECONDS = env.int("PROJECT_PAGE_POLL_SECONDS", default=10)
# An upload with no progress report for this long is shown as stalled.
UPLOAD_STALLED_AFTER_SECONDS = env.int("UPLOAD_STALLED_AFTER_SECONDS", default=900)
# A complete still running after this is taken to have died with its web process (S3 itself
# answers within minutes even for 5 TB); reconciliation then asks S3 what happened.
UPLOAD_COMPLETE_TIMEOUT_SECONDS = env.int("UPLOAD_COMPLETE_TIMEOUT_SECONDS", default=600)
# Part planning: S3 allows 5 MiB..5 GiB per part and 10,000 parts. Tests lower these.
UPLOAD_MIN_PART_SIZE = env.int("UPLOAD_MIN_PART_SIZE", default=8 * 1024 * 1024)
UPLOAD_PART_SIZE_UNIT = env.int("UPLOAD_PART_SIZE_UNIT", default=1024 * 1024)
UPLOAD_ABORT_INCOMPLETE_DAYS = env.int("UPLOAD_ABORT_INCOMPLETE_DAYS", default=7)

# Audit log: daily archive of events and chain head to S3, alerts when the chain breaks.
# The audit archive's storage: any module or object with put_object, list_keys, get_object_bytes.
AUDIT_ARCHIVE_STORAGE = "uploads.s3"
AUDIT_ARCHIVE_PREFIX = env.str("AUDIT_ARCHIVE_PREFIX", default="_audit/")
AUDIT_ARCHIVE_CHUNK_EVENTS = env.int("AUDIT_ARCHIVE_CHUNK_EVENTS", default=100_000)
AUDIT_ALERT_EMAILS = env.list("AUDIT_ALERT_EMAILS", default=[])

# Celery: Redis in production and CI, kombu's filesystem transport in the embedded default.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue_dir = VAR_DIR / "celery"
    # kombu's filesystem transport does not create its folders.
    for _sub in ("queue", "processed", "control", "broken"):
        (_queue_dir / _sub).mkdir(parents=True, exist_ok=True)
    # kombu's transport, hardened against torn and foreign queue files (portal/broker.py).
    CELERY_BROKER_TRANSPORT = "portal.broker:Transport"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "broken_folder": str(_queue_dir / "broken"),
        "data_folder_in": str(_queue_dir / "queue"),
        "data_folder_out": str(_queue_dir / "queue"),
        "processed_folder": str(_queue_dir / "processed"),
        "control_folder": str(_queue_dir / "control"),
        "store_processed": False,
    }
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)

# Background work. Periodic tasks run from `celery -A portal beat`.
# How long a task's database lease lasts; a worker killed mid-task blocks the work this long.
TASK_LEASE_SECONDS = env.int("TASK_LEASE_SECONDS", default=300)
# The sweep re-queues verifications and sends due notifications this often.
SWEEP_INTERVAL_SECONDS = env.int("SWEEP_INTERVAL_SECONDS", default=60)
RECONCILE_INTERVAL_SECONDS = env.int("RECONCILE_INTERVAL_SECONDS", default=300)
# The integrity sweep looks at each received file's recorded version this often (one
# HeadObject each), and at once after the local S3 came back empty.
INTEGRITY_SWEEP_HOURS = env.float("INTEGRITY_SWEEP_HOURS", default=24)
# Deep verification: ranged GETs of this size, this many in flight (memory is about
# their product).
VERIFY_CHUNK_BYTES = env.int("VERIFY_CHUNK_BYTES", default=8 * 1024 * 1024)
VERIFY_PARALLEL_GETS = env.int("VERIFY_PARALLEL_GETS", default=4)
# Staff and receipt emails wait until a batch has been quiet this long (or every file in
# it has settled), and never longer than the maximum.
NOTIFY_BATCH_QUIET_SECONDS = env.int("NOTIFY_BATCH_QUIET_SECONDS", default=120)
NOTIFY_BATCH_MAX_WAIT_SECONDS = env.int("NOTIFY_BATCH_MAX_WAIT_SECONDS", default=6 * 3600)
NOTIFY_MAX_ATTEMPTS = env.int("NOTIFY_MAX_ATTEMPTS", default=8)
WEBHOOK_TIMEOUT_SECONDS = env.int("WEBHOOK_TIMEOUT_SECONDS", default=10)
# Links in emails point here.
PORTAL_BASE_URL = env.str("PORTAL_BASE_URL", default=PORTAL_ORIGINS[0])
# Test hook only: when set, tasks touch a file named after each checkpoint in this folder
# and wait while a ".hold" file of that name exists, so a test can kill a worker at a
# known point. Empty (off) everywhere else.
TASK_TEST_CHECKPOINT_DIR = env.str("TASK_TEST_CHECKPOINT_DIR", default="")

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

# How each kind of notification leaves the portal (uploads/channels/): one class per channel.
NOTIFICATION_CHANNELS = [
    "uploads.channels.email.Email",
    "uploads.channels.webhook.Webhook",
]
