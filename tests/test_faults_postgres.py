"""PostgreSQL restarted under load: a live server (gunicorn) on a PostgreSQL cluster of the
test's own, restarted while customers post messages. The app recovers without a restart and
every message it acknowledged is still there."""

import subprocess
import sys
import threading
import time
import uuid

import psycopg
import pytest
import requests
from django.db import connection

from tests.fault_servers import free_port, postgres_cluster, wait_for

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="restarts a PostgreSQL of its own")


def _manage(*args: str, environment: dict[str, str]) -> None:
    completed = subprocess.run(
        [sys.executable, "manage.py", *args], env=environment, capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-2000:]


def _up(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code in (200, 503)
    except requests.RequestException:
        return False


def test_the_app_recovers_from_a_postgresql_restart_under_load_and_loses_nothing_saved(tmp_path):
    import os

    with postgres_cluster() as cluster:
        database_url = cluster.createdb("sla")
        environment = {
            **{
                k: v
                for k, v in os.environ.items()
                if k not in ("REDIS_URL", "CELERY_BROKER_URL", "MEDIA_ROOT")
            },
            "DEBUG": "1",
            "DATABASE_URL": database_url,
            "VAR_DIR": str(tmp_path / "var"),  # file cache and filesystem broker of its own
        }
        _manage("migrate", "--no-input", environment=environment)
        _manage("seed_demo", environment=environment)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "sla_portal.wsgi", "--bind", f"127.0.0.1:{port}",
             "--workers", "2", "--threads", "2", "--timeout", "60"],
            env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            wait_for(lambda: _up(base + "/healthz"), timeout=60, what="gunicorn")
            session = requests.Session()
            token = session.post(
                base + "/api/v1/tokens/",
                json={
                    "email": "coordinator@voorbeeld.example",
                    "password": "demo-password-2026",
                    "name": "drill",
                },
                timeout=10,
            ).json()["key"]
            session.headers["Authorization"] = f"Token {token}"
            created = session.post(
                base + "/api/v1/tickets/",
                json={
                    "kind": "incident",
                    "title": "Storing",
                    "description": "Sinds 09:00",
                    "urgency": 2,
                    "impact": 2,
                    "product": session.get(base + "/api/v1/products/", timeout=10).json()["results"][0][
                        "code"
                    ],
                },
                timeout=10,
            )
            assert created.status_code == 201, created.text
            ticket = created.json()["id"]
            # given customers posting messages on four connections
            results: list[tuple[float, int, str]] = []  # (when, status or 0 for no answer, body)
            stop = threading.Event()

            def load() -> None:
                client = requests.Session()
                client.headers["Authorization"] = f"Token {token}"
                while not stop.is_set():
                    body = f"bericht {uuid.uuid4()}"
                    try:
                        status = client.post(
                            f"{base}/api/v1/tickets/{ticket}/message/", json={"body": body}, timeout=15
                        ).status_code
                    except requests.RequestException:
                        status = 0
                    results.append((time.monotonic(), status, body))

            threads = [threading.Thread(target=load) for _ in range(4)]
            for thread in threads:
                thread.start()
            time.sleep(3)
            # when PostgreSQL is restarted under them (down for 2 s)
            stopped_at = time.monotonic()
            cluster.stop()
            time.sleep(2)
            cluster.start()
            started_at = time.monotonic()
            time.sleep(5)
            stop.set()
            for thread in threads:
                thread.join(30)
        finally:
            server.terminate()
            server.wait(30)
        # then the app serves again without being restarted: every request from a second after
        # PostgreSQL is back succeeded
        after = [status for when, status, _ in results if when > started_at + 1]
        assert after and set(after) == {201}, set(after)
        during = [status for when, status, _ in results if stopped_at <= when <= started_at + 1]
        # and while it was down the API said so (503 with Retry-After), never a 500
        assert set(during) <= {0, 201, 503}, sorted(set(during))
        # and every message the app acknowledged is in the database
        acknowledged = {body for _, status, body in results if status == 201}
        with psycopg.connect(database_url.replace("postgres://", "postgresql://")) as conn:
            stored = {
                row[0]
                for row in conn.execute("SELECT body FROM tickets_message WHERE body LIKE 'bericht %%'")
            }
        assert acknowledged <= stored
        print(
            f"\npostgres restart under load: {len(results)} requests, {len(acknowledged)} acknowledged, "
            f"all stored; around the restart: {sorted(set(during))} "
            f"({sum(1 for status in during if status != 201)} failed)"
        )
