"""What the benches share: a throw-away PostgreSQL database of their own, and bulk loading
with one ``INSERT ... SELECT`` per table instead of an hour of ORM saves."""

from __future__ import annotations

import sys
from urllib.parse import urlsplit, urlunsplit


def recreate_database(server_url: str, name: str) -> str:
    """Drop and create database ``name`` on the server of ``server_url``; return its URL."""
    import psycopg

    parts = urlsplit(server_url)
    if not parts.scheme.startswith("postgres"):
        sys.exit(f"{sys.argv[0]} needs PostgreSQL: DATABASE_URL=postgres://user@host:5432/postgres")
    with psycopg.connect(urlunsplit(parts._replace(scheme="postgresql")), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(parts._replace(path=f"/{name}"))


def drop_database(server_url: str, name: str) -> None:
    import psycopg
    from django.db import connections

    connections.close_all()
    with psycopg.connect(
        urlunsplit(urlsplit(server_url)._replace(scheme="postgresql")), autocommit=True
    ) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def insert_series(
    cursor,
    model,
    params: dict,
    *,
    fixed: dict,
    computed: dict[str, str],
    source: str = "generate_series(1, %(n)s) AS g",
) -> None:
    """``INSERT INTO <model's table> SELECT ... FROM <source>``: ``computed`` maps columns to
    SQL; every other column gets what Django would save for ``model(**fixed)`` (its defaults),
    so the benches keep loading when the models gain columns."""
    from django.db import connection

    instance = model(**fixed)
    columns, values = [], []
    for field in model._meta.concrete_fields:
        if field.column == "id" and "id" not in computed:
            continue
        columns.append(connection.ops.quote_name(field.column))
        if field.column in computed:
            values.append(computed[field.column])
        else:
            key = f"{model._meta.db_table}_{field.column}"
            params[key] = field.get_db_prep_save(field.pre_save(instance, add=True), connection)
            values.append(f"%({key})s")
    cursor.execute(
        f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) "  # noqa: S608 - model names  # nosec B608
        f"SELECT {', '.join(values)} FROM {source}",
        params,
    )


def logged_in_session(user) -> str:
    """A session key for ``user`` as after the TOTP step: the benches' cookie."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from accounts.middleware import RequireSecondFactorMiddleware

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session[RequireSecondFactorMiddleware.SESSION_KEY] = True
    session.create()
    return session.session_key


def organisations_with_contracts(count: int) -> tuple[list, list]:
    """``count`` "Bench organisation NNN", Default and Extended in turn, each with a contract
    since 2020."""
    from datetime import date

    from accounts.models import Organisation
    from sla.models import Contract, ServiceLevel

    levels = {level.code: level for level in ServiceLevel.objects.select_related("calendar")}
    organisations = Organisation.objects.bulk_create(
        Organisation(name=f"Bench organisation {i:03d}") for i in range(count)
    )
    contracts = Contract.objects.bulk_create(
        Contract(
            organisation=org,
            valid_from=date(2020, 1, 1),
            service_level=levels["default" if i % 2 == 0 else "extended"],
        )
        for i, org in enumerate(organisations)
    )
    return organisations, contracts
