"""pytest plugin (``-p sla_portal.pytest_parallel`` in pyproject.toml): under pytest-xdist each
worker gets its own Redis database, cache prefix and var/ directory, as pytest-django gives it
its own test database. Without this two workers share one broker, and one worker's Celery
consumer runs the other's tasks against the wrong database.

It runs when pytest imports it, before pytest-django loads the settings, and it rewrites the
environment itself, so that app processes a test starts inherit the worker's addresses."""

import os
from urllib.parse import urlsplit, urlunsplit

REDIS_DATABASES = 16  # Redis's default number of databases


def worker_redis_url(url: str, worker_index: int) -> str:
    """``url`` on database base + 1 + index (mod 16): the base stays the serial run's."""
    parts = urlsplit(url)
    base = int(parts.path.strip("/") or 0)
    database = (base + 1 + worker_index) % REDIS_DATABASES
    return urlunsplit(parts._replace(path=f"/{database}"))


def isolate_worker(environment: os._Environ | dict, worker: str) -> None:
    index = int(worker.removeprefix("gw"))
    if environment.get("REDIS_URL"):
        redis_url = worker_redis_url(environment["REDIS_URL"], index)
        # The broker follows REDIS_URL by default; Celery reads CELERY_BROKER_URL from the
        # environment before its own settings, so it is only rewritten when it was set.
        if environment.get("CELERY_BROKER_URL") == environment["REDIS_URL"]:
            environment["CELERY_BROKER_URL"] = redis_url
        environment["REDIS_URL"] = redis_url
    environment["CACHE_PREFIX"] = f"{environment.get('CACHE_PREFIX', 'sla')}-{worker}"
    var_dir = environment.get("VAR_DIR") or os.path.join(os.path.dirname(os.path.dirname(__file__)), "var")
    environment["VAR_DIR"] = os.path.join(var_dir, f"pytest-{worker}")


if worker := os.environ.get("PYTEST_XDIST_WORKER"):
    isolate_worker(os.environ, worker)
