FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 VAR_DIR=/app/var
WORKDIR /app
COPY pyproject.toml constraints.txt ./
COPY sla_portal sla_portal
COPY accounts accounts
COPY sla sla
COPY tickets tickets
RUN pip install --no-cache-dir -c constraints.txt .
COPY . .
# The manifest storage of production (DEBUG=0) needs its manifest built by the same storage.
RUN DEBUG=0 SECRET_KEY=build-only-not-a-secret python manage.py collectstatic --no-input --verbosity 0
RUN useradd --create-home app && mkdir -p /app/var/media && chown -R app /app/var
USER app
EXPOSE 8000
CMD ["gunicorn", "sla_portal.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3"]
