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
