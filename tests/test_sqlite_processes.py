"""The embedded default under load: web, two workers and beat as `bin/run` starts them, on a
SQLite file and the filesystem broker, with requests that write. SQLite allows one writer at
a time; a process that finds the file locked must wait its turn, never log "database is
locked" and drop the heartbeat or a mail (issue 14).

Its own SQLite file and broker in tmp_path, whatever DATABASE_URL says; ~90 s.
`SQLITE_LOAD_SECONDS` sets the traffic's length (75 by default)."""

import http.cookiejar
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings

from tests.fault_servers import free_port

pytestmark = pytest.mark.sqlite_processes

BASE_DIR = Path(settings.BASE_DIR)
COORDINATORS = ("coordinator@voorbeeld.example", "coordinator@extra.example")
PASSWORD = "demo-password-2026"
LOCKED = "database is locked"


def _env(var_dir: Path, port: int) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "CACHE_PREFIX", "MEDIA_ROOT"}
        and not key.startswith("PYTEST")
    }
    env.update(VAR_DIR=str(var_dir), DEBUG="1", SITE_URL=f"http://127.0.0.1:{port}", PYTHONUNBUFFERED="1")
    return env


def _call(method: str, url: str, *, body: dict | None = None, token: str = "") -> tuple[int, dict]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Token {token}"
    if method == "POST":
        headers["Idempotency-Key"] = str(uuid.uuid4())
    request = urllib.request.Request(  # noqa: S310 - our own local server
        url, data=json.dumps(body).encode() if body is not None else None, headers=headers, method=method
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310  # nosec B310
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, {}


def _token(base: str, email: str, name: str) -> tuple[int, str]:
    status, body = _call(
        "POST", f"{base}/api/v1/tokens/", body={"email": email, "password": PASSWORD, "name": name}
    )
    return status, body.get("key", "")


def _traffic(base: str, email: str, until: float, statuses: list[int]) -> None:
    """Register tickets as fast as the API allows (30 a minute); while throttled, log in
    (a token is a write) and read the list."""
    _status, token = _token(base, email, "load")
    n = 0
    while time.monotonic() < until:
        n += 1
        status, _ = _call(
            "POST",
            f"{base}/api/v1/tickets/",
            token=token,
            body={
                "kind": "incident",
                "product": "qixium-saas",
                "title": f"Load {n}",
                "description": "SQLite under load",
                "urgency": 2,
                "impact": 2,
            },
        )
        statuses.append(status)
        if status == 429:
            statuses.append(_token(base, email, f"login {n}")[0])
            statuses.append(_call("GET", f"{base}/api/v1/tickets/", token=token)[0])


def _portal_messages(base: str, email: str, until: float, statuses: list[int]) -> None:
    """Log in to the portal as a person does and write messages on the organisation's tickets:
    each one tells support (a notification in the outbox, delivered by the worker)."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

    def csrf() -> str:
        return next(cookie.value for cookie in jar if cookie.name == "csrftoken")

    def post(path: str, fields: dict) -> int:
        data = urllib.parse.urlencode({"csrfmiddlewaretoken": csrf(), **fields}).encode()
        try:
            with opener.open(f"{base}{path}", data=data, timeout=30) as response:
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code

    opener.open(f"{base}/accounts/login/", timeout=30).close()
    statuses.append(post("/accounts/login/", {"login": email, "password": PASSWORD}))
    _status, token = _token(base, email, "portal")
    _status, page = _call("GET", f"{base}/api/v1/tickets/", token=token)  # the demo's are assigned
    ids = [ticket["id"] for ticket in page.get("results", [])] or [1]
    n = 0
    while time.monotonic() < until:
        n += 1
        ticket = ids[n % len(ids)]
        statuses.append(post(f"/portal/tickets/{ticket}/message/", {"body": f"Still broken ({n})"}))


def test_sqlite_web_worker_and_beat_under_traffic_never_find_the_database_locked(tmp_path):
    duration = float(os.environ.get("SQLITE_LOAD_SECONDS", "75"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    var_dir = tmp_path / "var"
    env = _env(var_dir, port)
    python = sys.executable
    for command in (["migrate", "--no-input"], ["seed_demo"]):
        subprocess.run(  # nosec B603
            [python, "manage.py", *command], cwd=BASE_DIR, env=env, check=True, capture_output=True
        )
    commands = {
        "main": [python, "-m", "celery", "-A", "sla_portal", "worker", "--loglevel=INFO", "--concurrency=2",
                 "--hostname", f"main-{port}@%h"],
        "sla": [python, "-m", "celery", "-A", "sla_portal", "worker", "--loglevel=INFO", "--concurrency=1",
                "--queues", "sla", "--hostname", f"sla-{port}@%h"],
        "beat": [python, "-m", "celery", "-A", "sla_portal", "beat", "--loglevel=INFO",
                 "--schedule", str(tmp_path / "beat-schedule")],
        "web": [python, "-m", "gunicorn", "sla_portal.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "3",
                "--access-logfile", "-"],
    }  # fmt: skip
    logs = {name: tmp_path / f"{name}.log" for name in commands}
    processes = []
    started = time.time()
    try:
        for name, command in commands.items():
            with logs[name].open("w") as log:
                processes.append(
                    subprocess.Popen(
                        command,
                        cwd=BASE_DIR,
                        env=env,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=5).close()  # noqa: S310  # nosec B310
                break
            except urllib.error.HTTPError:
                break  # 503 while the heartbeat is not in yet: the server answers
            except OSError:
                time.sleep(0.5)
        statuses: list[int] = []
        until = time.monotonic() + duration
        threads = [
            threading.Thread(target=target, args=(base, email, until, statuses))
            for email in COORDINATORS
            for target in (_traffic, _traffic, _portal_messages, _portal_messages)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        # The outbox empties (a delivery right after each write, beat every minute) and the
        # heartbeat beat sends a minute after it starts comes through, queued behind deliveries.
        database = sqlite3.connect(var_dir / "db.sqlite3", timeout=20)
        deadline = time.monotonic() + 75
        while time.monotonic() < deadline:
            unsent = database.execute(
                "SELECT count(*) FROM accounts_notification WHERE sent_at IS NULL"
            ).fetchone()
            beaten = database.execute("SELECT count(*) FROM sla_heartbeat WHERE name = 'worker'").fetchone()
            if unsent[0] == 0 and beaten[0]:
                break
            time.sleep(2)
        notifications = database.execute(
            "SELECT count(*), count(sent_at) FROM accounts_notification"
        ).fetchone()
        heartbeat = database.execute("SELECT beat_at FROM sla_heartbeat WHERE name = 'worker'").fetchone()
        tickets = database.execute("SELECT count(*) FROM tickets_ticket").fetchone()[0]
        database.close()
    finally:
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
    locked = {name: log.read_text(errors="replace").count(LOCKED) for name, log in logs.items()}
    print(  # the figure the README quotes
        f"\n{time.time() - started:.0f} s, {len(statuses)} requests {dict(Counter(statuses))}, "
        f"{tickets} tickets, "
        f"notifications {notifications[1]}/{notifications[0]} sent, "
        f'"{LOCKED}" per log: {locked}'
    )
    assert sum(locked.values()) == 0, locked
    assert not [status for status in statuses if status >= 500], statuses
    assert tickets >= 30, tickets
    assert heartbeat is not None, "beat's heartbeat never ran"
    assert notifications[0] > 0 and notifications[0] == notifications[1], notifications
