"""The second local provider: django-oauth-toolkit (OAuth 2.0 and OpenID Connect), set up for
one public single-page-app client. Development and tests only: a throwaway database, a
signing key made at each start, a plain login page. Listens on loopback only (serve.py)."""

import os
from pathlib import Path

HERE = Path(__file__).resolve().parent
PORT = int(os.environ.get("DJANGO_PROVIDER_PORT", "8000"))
# Pinned: left empty, django-oauth-toolkit derives the issuer from the Host header.
ISSUER = f"http://127.0.0.1:{PORT}/o"
# The SPA's origins (exact): localhost and 127.0.0.1 are different sites to a browser.
APP_ORIGINS = os.environ.get("APP_ORIGINS", "http://localhost:8082,http://127.0.0.1:8082").split(",")
DATA = Path(os.environ.get("DJANGO_PROVIDER_DATA", HERE.parent / ".data"))

SECRET_KEY = "development-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "corsheaders",
    "oauth2_provider",
    "dot_demo",
]
MIDDLEWARE = [
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
ROOT_URLCONF = "dot_demo.urls"
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True}]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": DATA / "db.sqlite3"}}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
USE_TZ = True
LOGIN_URL = "/accounts/login/"
LOGGING = {"version": 1, "disable_existing_loggers": False}

# django-oauth-toolkit's own CORS covers only successful token responses; UserInfo,
# discovery, keys, revocation, error answers and preflights need django-cors-headers.
CORS_ALLOWED_ORIGINS = APP_ORIGINS
CORS_URLS_REGEX = r"^/(o/|\.well-known/).*$"

OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    "OIDC_ISS_ENDPOINT": ISSUER,
    "OIDC_RSA_PRIVATE_KEY": os.environ.get("DJANGO_PROVIDER_RSA_KEY", ""),
    "PKCE_REQUIRED": True,
    "ROTATE_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "ACCESS_TOKEN_EXPIRE_SECONDS": int(os.environ.get("DJANGO_PROVIDER_ACCESS_TOKEN_TTL", "3600")),
    "OIDC_RP_INITIATED_LOGOUT_ENABLED": True,
    # With a valid id_token_hint, log out without a confirmation page.
    "OIDC_RP_INITIATED_LOGOUT_ALWAYS_PROMPT": False,
    # Plain http for the app's local origins (CORS of token responses, logout redirects).
    "ALLOWED_SCHEMES": ["http", "https"],
    "SCOPES": {"openid": "Sign you in", "profile": "Your name", "email": "Your email address"},
    "OAUTH2_VALIDATOR_CLASS": "dot_demo.validator.DemoValidator",
    # RFC 9700: S256 only, and `iss` in authorization responses (RFC 9207).
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
}
