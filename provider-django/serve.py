"""Starts the second local provider (django-oauth-toolkit) on 127.0.0.1: a fresh database,
a new RSA signing key, the demo people and clients, then Django's threaded server.
Usage: provider-django/.venv/bin/python provider-django/serve.py
Environment: DJANGO_PROVIDER_PORT (8000), APP_ORIGINS, DJANGO_PROVIDER_ACCESS_TOKEN_TTL,
DJANGO_PROVIDER_DATA (the database's folder, emptied at each start)."""

import os
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
DATA = Path(os.environ.setdefault("DJANGO_PROVIDER_DATA", str(HERE / ".data")))

# The demo people, as on the first provider.
USERS = [
    ("alice", "wonderland", "Alice", "Liddell", "alice@example.test"),
    ("bob", "builder", "Bob", "Builder", "bob@example.test"),
]


def signing_key():
    from jwcrypto import jwk

    return jwk.JWK.generate(kty="RSA", size=2048).export_to_pem(private_key=True, password=None).decode()


def seed(settings):
    from django.contrib.auth.models import User
    from oauth2_provider.models import get_application_model

    Application = get_application_model()
    for username, password, first, last, email in USERS:
        User.objects.create_user(username, email, password, first_name=first, last_name=last)
    Application.objects.create(
        name="Leptos OIDC demo",
        client_id="leptos-spa",
        # A public client: no secret (RFC 6749 §2.1); PKCE protects its code.
        client_type=Application.CLIENT_PUBLIC,
        client_secret="",
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        algorithm=Application.RS256_ALGORITHM,
        redirect_uris=" ".join(f"{origin}/callback" for origin in settings.APP_ORIGINS),
        post_logout_redirect_uris=" ".join(f"{origin}/" for origin in settings.APP_ORIGINS),
        allowed_origins=" ".join(settings.APP_ORIGINS),
        # No consent page, so that prompt=none can answer (validator.py).
        skip_authorization=True,
    )
    # The demo API (api/server.mjs): a confidential client that only introspects tokens.
    Application.objects.create(
        name="Demo API",
        client_id="demo-api",
        client_type=Application.CLIENT_CONFIDENTIAL,
        client_secret=os.environ.get("API_CLIENT_SECRET", "demo-api-secret-not-secret"),
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
    )


def main():
    shutil.rmtree(DATA, ignore_errors=True)
    DATA.mkdir(parents=True)
    os.environ["DJANGO_PROVIDER_RSA_KEY"] = signing_key()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dot_demo.settings")
    import django
    from django.conf import settings
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    seed(settings)
    call_command("runserver", f"127.0.0.1:{settings.PORT}", use_reloader=False, use_threading=True)


if __name__ == "__main__":
    main()
