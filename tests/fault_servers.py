"""Real servers for the fault tests, each on a free port of its own: SMTP servers that work,
refuse or hang (a thread with a socket, no mock of smtplib), a Redis, Celery worker processes,
and a PostgreSQL cluster on a temporary directory. The shared PostgreSQL (5432) and Redis
(6379) are never stopped."""

import contextlib
import email
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate: Callable[[], object], *, timeout: float = 30.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"not done within {timeout} s: {what}")
        time.sleep(0.1)


# --- SMTP ------------------------------------------------------------------------------------


class SmtpServer:
    """A socket server on 127.0.0.1:``port`` in a thread. ``mode``: ``"ok"`` speaks enough SMTP
    to take mail (kept in ``messages``), ``"421"`` greets with 421 and hangs up, ``"hang"``
    accepts and never says a word."""

    def __init__(self, port: int, mode: str = "ok") -> None:
        self.port, self.mode = port, mode
        self.messages: list[email.message.Message] = []
        self.connections = 0
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", port))
        self._sock.listen(50)
        self._open: list[socket.socket] = []
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        self._sock.settimeout(0.1)  # a closed socket does not wake a blocked accept()
        while not self._stopped.is_set():
            try:
                conn, _addr = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(None)
            self.connections += 1
            self._open.append(conn)
            if self.mode == "421":
                with contextlib.suppress(OSError):
                    conn.sendall(b"421 mail.example Service not available, closing channel\r\n")
                    conn.close()
            elif self.mode == "ok":
                threading.Thread(target=self._session, args=(conn,), daemon=True).start()
            # "hang": keep the connection open and say nothing

    def _session(self, conn: socket.socket) -> None:
        with contextlib.suppress(OSError), conn, conn.makefile("rb") as lines:

            def reply(text: str) -> None:
                conn.sendall(text.encode() + b"\r\n")

            reply("220 mail.example ESMTP test")
            while True:
                line = lines.readline()
                if not line:
                    return
                command = line.decode().strip().upper()
                if command.startswith(("EHLO", "HELO")):
                    reply("250 mail.example")
                elif command == "DATA":
                    reply("354 go ahead")
                    data = []
                    while (chunk := lines.readline()) not in (b".\r\n", b""):
                        data.append(chunk[1:] if chunk.startswith(b"..") else chunk)
                    self.messages.append(email.message_from_bytes(b"".join(data)))
                    reply("250 queued")
                elif command == "QUIT":
                    reply("221 bye")
                    return
                else:  # MAIL FROM, RCPT TO, RSET, NOOP
                    reply("250 ok")

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(5)
        self._sock.close()
        for conn in self._open:
            with contextlib.suppress(OSError):
                conn.close()


@contextlib.contextmanager
def smtp_server(port: int, mode: str = "ok") -> Iterator[SmtpServer]:
    server = SmtpServer(port, mode)
    try:
        yield server
    finally:
        server.stop()


# --- Redis and Celery worker processes -------------------------------------------------------


@contextlib.contextmanager
def redis_server() -> Iterator[str]:
    """A throwaway redis-server on a free port; its URL."""
    port = free_port()
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: _listening(port), timeout=10, what="redis-server")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(10)


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def app_environment(**overrides: str) -> dict[str, str]:
    """The environment of an app process on the test's own database."""
    from django.db import connection

    db = connection.settings_dict
    database_url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    environment = {**os.environ, "DEBUG": "1", "DATABASE_URL": database_url, "PYTHONUNBUFFERED": "1"}
    environment.update(overrides)
    return environment


class Worker:
    """A real ``celery worker`` process (its own process group, so SIGKILL takes it whole)."""

    def __init__(self, name: str, *, queues: str, environment: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.log = log_dir / f"{name}.log"
        command = [
            sys.executable, "-m", "celery", "-A", "sla_portal", "worker", "--loglevel=INFO",
            "--pool=solo", "--without-heartbeat", "--without-mingle", "--without-gossip",
            "--hostname", f"{name}@%h", "--queues", queues,
        ]  # fmt: skip
        self.process = subprocess.Popen(
            command,
            cwd=BASE_DIR,
            env=environment,
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def ran(self, task: str, outcome: str) -> bool:
        """Whether the log says ``task[<id>] <outcome>`` (received, succeeded)."""
        return any(line.startswith(f"{task}[") and outcome in line for line in self.text().split("Task ")[1:])

    def wait_ready(self, timeout: float = 60) -> None:
        wait_for(
            lambda: " ready." in self.text(),
            timeout=timeout,
            what=f"worker {self.name}: {self.text()[-2000:]}",
        )

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


@contextlib.contextmanager
def workers(specs: dict[str, str], *, environment: dict[str, str]) -> Iterator[dict[str, Worker]]:
    """Worker processes by name -> queues; started together, ready when yielded."""
    log_dir = Path(tempfile.mkdtemp(prefix="workers-"))
    started = {
        name: Worker(name, queues=queues, environment=environment, log_dir=log_dir)
        for name, queues in specs.items()
    }
    try:
        for worker in started.values():
            worker.wait_ready()
        yield started
    finally:
        for worker in started.values():
            worker.stop()
        shutil.rmtree(log_dir, ignore_errors=True)


def send_task(broker_url: str, name: str, **kwargs) -> None:
    """Publish a task the way beat does: by name, through the app's routes."""
    from sla_portal.celery import app

    with app.connection_for_write(broker_url) as connection:
        app.send_task(name, kwargs=kwargs, connection=connection)


# --- PostgreSQL ------------------------------------------------------------------------------


def _pg_bin() -> Path:
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parent.parent.name)
    )
    if not versions:
        raise RuntimeError("no PostgreSQL server binaries in /usr/lib/postgresql/*/bin")
    return versions[-1].parent


class PostgresCluster:
    """A PostgreSQL cluster of its own on a temporary directory and a free port. initdb refuses
    to run as root: then the cluster runs as the ``postgres`` system user (runuser)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.directory = Path(tempfile.mkdtemp(prefix="pgcluster-"))
        self.data = self.directory / "data"
        self.bin = _pg_bin()
        self._as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self._as:
            shutil.chown(self.directory, "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        self.start()

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run(
            [*self._as, str(self.bin / tool), *args], check=True, capture_output=True, cwd=self.directory
        )

    @property
    def _options(self) -> str:
        return f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"

    def start(self) -> None:
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-o",
            self._options,
            "-l",
            str(self.directory / "log"),
            "-w",
            "start",
        )

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def createdb(self, name: str) -> str:
        subprocess.run(
            ["createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name], check=True
        )
        return self.url(name)

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)


@contextlib.contextmanager
def postgres_cluster() -> Iterator[PostgresCluster]:
    if shutil.which("runuser") is None and os.geteuid() == 0:
        raise RuntimeError("running as root needs runuser to start PostgreSQL as postgres")
    cluster = PostgresCluster()
    try:
        yield cluster
    finally:
        cluster.destroy()
