import os
import subprocess
import sys
from pathlib import Path

import yaml
from celery.app.defaults import NAMESPACES, flatten
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent


def test_every_celery_setting_is_one_celery_knows():
    """A misspelt CELERY_ setting is silently ignored by Celery; this test is not."""
    known = {name for name, _ in flatten(NAMESPACES)}
    ours = [name for name in dir(settings) if name.startswith("CELERY_")]
    assert "CELERY_TASK_ACKS_LATE" in ours
    unknown = [name for name in ours if name.removeprefix("CELERY_").lower() not in known]
    assert unknown == []


def test_celery_app_takes_its_settings_from_django():
    from sla_portal.celery import app

    assert app.conf.task_serializer == "json"
    assert app.conf.accept_content == ["json"]
    assert app.conf.task_acks_late is True
    assert app.conf.task_time_limit == settings.CELERY_TASK_TIME_LIMIT
    assert app.conf.beat_scheduler == "django_celery_beat.schedulers:DatabaseScheduler"
    assert "heartbeat" in app.conf.beat_schedule


def test_time_zone_languages_and_user_model():
    assert settings.TIME_ZONE == "Europe/Amsterdam"
    assert settings.USE_TZ is True
    assert [code for code, _ in settings.LANGUAGES] == ["en", "nl"]
    assert "django.middleware.locale.LocaleMiddleware" in settings.MIDDLEWARE
    assert settings.AUTH_USER_MODEL == "accounts.User"


def _run_manage(*args, env_overrides):
    env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECRET_KEY")}
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "pRod-like-Secret-9f8e7d6c5b4a3928171605f4e3d2c1b0aZyXwVuTsRqPo",
    "ALLOWED_HOSTS": "support.example.com",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/postgres",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
}


def test_check_deploy_is_clean_with_production_settings():
    result = _run_manage("check", "--deploy", "--fail-level", "WARNING", env_overrides=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
    # behind docker-compose's proxy too
    result = _run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env_overrides={**PRODUCTION_ENV, "TRUSTED_PROXIES": "1"},
    )
    assert result.returncode == 0, result.stdout + result.stderr


SECURITY_SETTINGS = [
    "SECURE_SSL_REDIRECT",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "TRUSTED_PROXIES",
    "ALLAUTH_TRUSTED_PROXY_COUNT",
]


def _security_settings(env_overrides) -> list[str]:
    code = (
        f"from django.conf import settings as s; print(*[getattr(s, n) for n in {SECURITY_SETTINGS!r}], "
        "s.REST_FRAMEWORK['NUM_PROXIES'], 'csp.middleware.CSPMiddleware' in s.MIDDLEWARE)"
    )
    result = _run_manage("shell", "--no-imports", "-c", code, env_overrides=env_overrides)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_production_is_secure_by_default_and_development_works_over_http():
    assert _security_settings(PRODUCTION_ENV) == [
        "True",
        "True",
        "True",
        "31536000",
        "True",
        "True",
        "0",
        "0",
        "0",
        "True",
    ]
    assert _security_settings({**PRODUCTION_ENV, "TRUSTED_PROXIES": "1"})[6:9] == ["1", "1", "1"]
    development = {k: v for k, v in PRODUCTION_ENV.items() if k != "SECRET_KEY"} | {"DEBUG": "1"}
    assert _security_settings(development) == [
        "False",
        "False",
        "False",
        "0",
        "False",
        "False",
        "0",
        "0",
        "0",
        "True",
    ]


def test_bandit_reports_nothing():
    """bin/test runs it too; medium and high findings only, false positives marked `# nosec <id>`."""
    result = subprocess.run(
        [sys.executable, "-m", "bandit", "-c", "pyproject.toml", "-ll", "-q", "-r", "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout
    assert "bandit" in (ROOT / "bin" / "test").read_text()


def test_production_refuses_to_start_without_a_secret_key():
    env = dict(PRODUCTION_ENV)
    env["SECRET_KEY"] = ""
    result = _run_manage("check", env_overrides=env)
    assert result.returncode != 0
    assert "Set SECRET_KEY" in result.stderr


def test_database_and_broker_come_from_the_environment():
    code = (
        "from django.conf import settings as s; "
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL, s.CACHES['default']['BACKEND'])"
    )
    result = _run_manage(
        "shell", "--no-imports", "-c", code, env_overrides={**PRODUCTION_ENV, "REDIS_URL": "redis://h:6379/1"}
    )
    assert result.stdout.split() == [
        "django.db.backends.postgresql",
        "redis://h:6379/1",
        "sla_portal.cache.RedisCache",
    ]
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL")}
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", code],
        cwd=ROOT,
        env={**env, "DEBUG": "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.stdout.split() == [
        "django.db.backends.sqlite3",
        "filesystem://",
        "django.core.cache.backends.filebased.FileBasedCache",
    ]


def test_docker_compose_names_the_production_services():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"web", "worker", "beat", "postgres", "redis"} <= set(services)
    assert "gunicorn" in " ".join(services["web"]["command"])
    assert "maxmemory-policy noeviction" in " ".join(services["redis"]["command"])
    for name in ("web", "postgres", "redis"):
        assert "healthcheck" in services[name], name
    # behind one proxy of ours, reachable only through it
    assert services["web"]["environment"]["TRUSTED_PROXIES"] == "1"
    assert services["web"]["ports"] == ["127.0.0.1:8000:8000"]
    assert (ROOT / "Dockerfile").exists()


def test_production_static_files_collect_with_the_manifest_storage(tmp_path):
    """Production serves hashed names from a manifest; a vendored file pointing at a file we do
    not ship (a source map) fails the build, and without the manifest every page would fail."""
    result = _run_manage(
        "collectstatic", "--no-input", env_overrides={**PRODUCTION_ENV, "VAR_DIR": str(tmp_path)}
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "staticfiles" / "staticfiles.json").exists()


def test_each_parallel_test_worker_has_its_own_redis_database_cache_prefix_and_var_dir():
    """Two xdist workers on one broker would run each other's Celery tasks on the wrong test
    database; an app process a test starts inherits the worker's addresses unchanged."""
    from sla_portal.pytest_parallel import isolate_worker

    base = {"REDIS_URL": "redis://127.0.0.1:6379/0", "CACHE_PREFIX": "ci", "VAR_DIR": "/srv/var"}
    first, second = dict(base), dict(base)
    isolate_worker(first, "gw0")
    isolate_worker(second, "gw1")
    assert first == {
        "REDIS_URL": "redis://127.0.0.1:6379/1",
        "CACHE_PREFIX": "ci-gw0",
        "VAR_DIR": "/srv/var/pytest-gw0",
    }
    assert second["REDIS_URL"] == "redis://127.0.0.1:6379/2"
    # a broker set to the same Redis follows it
    same = {"REDIS_URL": "redis://r:6379/3", "CELERY_BROKER_URL": "redis://r:6379/3"}
    isolate_worker(same, "gw1")
    assert same["REDIS_URL"] == same["CELERY_BROKER_URL"] == "redis://r:6379/5"
    # a broker of its own (a fault test's) stays; Redis has 16 databases
    other = {"REDIS_URL": "redis://:secret@h:6380/15", "CELERY_BROKER_URL": "redis://b:6379/0"}
    isolate_worker(other, "gw0")
    assert (
        other["REDIS_URL"] == "redis://:secret@h:6380/0" and other["CELERY_BROKER_URL"] == "redis://b:6379/0"
    )
    # the embedded default: no Redis, only its own var/
    embedded = {}
    isolate_worker(embedded, "gw2")
    assert "REDIS_URL" not in embedded and embedded["VAR_DIR"].endswith("var/pytest-gw2")
