FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 VAR_DIR=/app/var
WORKDIR /app
# pg_dump and pg_restore for `manage.py backup` / `restore`, of the server's major version
# (postgres:16 in docker-compose.yml; an older pg_dump refuses a newer server).
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates postgresql-common \
    && /usr/share/postgresql-common/pgdg/apt.postgresql.org.sh -y \
    && apt-get install -y --no-install-recommends postgresql-client-16 \
    && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml constraints.txt ./
COPY sla_portal sla_portal
COPY accounts accounts
COPY sla sla
COPY tickets tickets
RUN pip install --no-cache-dir -c constraints.txt .
COPY . .
# The manifest storage of production (DEBUG=0) needs its manifest built by the same storage.
RUN DEBUG=0 SECRET_KEY=build-only-not-a-secret python manage.py collectstatic --no-input --verbosity 0
RUN useradd --create-home app && mkdir -p /app/var/media /app/var/backups && chown -R app /app/var
USER app
EXPOSE 8000
CMD ["gunicorn", "sla_portal.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3"]
