"""Start the test provider: ``python tests/oidc_provider/serve.py PORT``.

Reads OIDC_DB (a SQLite file), OIDC_RSA_PRIVATE_KEY (PEM), OIDC_CLIENT_ID, OIDC_CLIENT_SECRET
and OIDC_USERS (JSON: [{"email": ..., "verified": bool}]) from the environment, creates its
tables, the client and the users, and serves until killed.
"""

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ["DJANGO_SETTINGS_MODULE"] = "tests.oidc_provider.settings"

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from oauth2_provider.models import Application  # noqa: E402


def main(port: str) -> None:
    call_command("migrate", verbosity=0)
    Application.objects.create(
        name="SLA Portal",
        client_id=os.environ["OIDC_CLIENT_ID"],
        client_secret=os.environ["OIDC_CLIENT_SECRET"],
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris="http://testserver/accounts/oidc/",
        algorithm=Application.RS256_ALGORITHM,
        skip_authorization=True,
    )
    for n, user in enumerate(json.loads(os.environ["OIDC_USERS"])):
        get_user_model().objects.create_user(
            username=f"user{n}",
            email=user["email"],
            first_name="" if user.get("verified", True) else "unverified",
        )
    call_command("runserver", f"127.0.0.1:{port}", use_reloader=False, use_threading=True, skip_checks=True)


if __name__ == "__main__":
    main(sys.argv[1])
