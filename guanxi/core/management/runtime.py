"""What the `guanxi` commands share: preparing the database, static files, the first
administrator, and running child processes that stop cleanly together."""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from django.conf import settings
from django.core.management import call_command
from django.db import transaction
from django.db.models import Q

STATIC_STAMP = ".guanxi-static-stamp"


def prepare_database(*, verbosity: int = 0) -> None:
    """Apply migrations and create the database cache table (both do nothing when done)."""
    Path(settings.DATA_DIR).mkdir(parents=True, exist_ok=True)
    call_command("migrate", interactive=False, verbosity=verbosity)
    call_command("createcachetable", verbosity=verbosity)


def static_sources_fingerprint() -> str:
    """A hash of every static file's name, size and modification time, as the finders see them."""
    from django.contrib.staticfiles.finders import get_finders

    digest = hashlib.sha256()
    entries = []
    for finder in get_finders():
        for path, storage in finder.list(["CVS", ".*", "*~"]):
            try:
                stat = os.stat(storage.path(path))
            except (NotImplementedError, OSError):
                continue
            entries.append(f"{path}\0{stat.st_size}\0{int(stat.st_mtime)}")
    for entry in sorted(entries):
        digest.update(entry.encode())
    return digest.hexdigest()


def static_is_stale() -> bool:
    root = Path(settings.STATIC_ROOT)
    stamp = root / STATIC_STAMP
    if not stamp.exists():
        return True
    return stamp.read_text().strip() != static_sources_fingerprint()


def collect_static_if_stale(*, verbosity: int = 0) -> bool:
    """Run collectstatic when STATIC_ROOT is missing or older than the sources."""
    if not static_is_stale():
        return False
    call_command("collectstatic", interactive=False, verbosity=verbosity)
    root = Path(settings.STATIC_ROOT)
    root.mkdir(parents=True, exist_ok=True)
    (root / STATIC_STAMP).write_text(static_sources_fingerprint())
    return True


def administrators():
    from guanxi.core.models import User

    return User.objects.filter(Q(is_superuser=True) | Q(roles__is_admin=True)).distinct()


def generate_password() -> str:
    return secrets.token_urlsafe(12)


@transaction.atomic
def create_administrator(*, username: str, password: str, email: str = "", display_name: str = ""):
    """An active user with the admin role (and Django's superuser flag)."""
    from guanxi.core.models import Role
    from guanxi.core.services.organisation import user_create

    role = Role.objects.filter(code="admin").first() or Role.objects.filter(is_admin=True).first()
    return user_create(
        username=username,
        password=password,
        actor=None,
        roles=[role] if role else [],
        is_superuser=True,
        email=email,
        display_name=display_name or username,
    )


def ensure_first_administrator(*, url: str, stdout: TextIO) -> None:
    """Create the first administrator when there is none, and say how to log in, once."""
    if administrators().exists():
        return
    username = os.environ.get("GUANXI_ADMIN_USERNAME") or "admin"
    password = os.environ.get("GUANXI_ADMIN_PASSWORD") or ""
    generated = not password
    if generated:
        password = generate_password()
    create_administrator(username=username, password=password)
    lines = [
        "Guanxi: the first administrator was created.",
        "",
        f"  URL:       {url}",
        f"  username:  {username}",
        f"  password:  {password if generated else '(from GUANXI_ADMIN_PASSWORD)'}",
    ]
    if generated:
        lines += ["", "This password is shown only once: keep it, then change it."]
    stdout.write(box(lines) + "\n")


def box(lines: list[str]) -> str:
    width = max(len(line) for line in lines) + 2
    top = "+" + "-" * (width + 2) + "+"
    body = [f"|  {line.ljust(width)}|" for line in lines]
    return "\n".join([top, *body, top])


def guanxi_command(*args: str) -> list[str]:
    """A command line that runs `guanxi ARGS` with this very interpreter."""
    return [sys.executable, "-m", "guanxi.cli", *args]


def child_environment() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "guanxi.settings")
    # Children must find the same data folder (and so the same secret key and database).
    env["GUANXI_DATA_DIR"] = str(settings.DATA_DIR)
    return env


def gunicorn_command(*, host: str, port: int, workers: int, extra: list[str] | None = None):
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "guanxi.wsgi",
        "--bind",
        f"{host}:{port}",
        "--workers",
        str(workers),
        "--access-logfile",
        "-",
        "--forwarded-allow-ips",
        os.environ.get("GUANXI_FORWARDED_ALLOW_IPS", "127.0.0.1"),
        "--no-control-socket",
        *(extra or []),
    ]


def default_web_workers() -> int:
    return min(2 * (os.cpu_count() or 1) + 1, 9)


class Supervisor:
    """Runs child processes; a signal or the death of one stops them all, then returns."""

    # What each child takes as "finish what you are doing and stop".
    GRACE_SECONDS = 30

    def __init__(self, stdout: TextIO):
        self.stdout = stdout
        self.children: list[tuple[str, subprocess.Popen, int]] = []
        self.stopping = False
        self.exit_code = 0

    def start(self, name: str, command: list[str], stop_signal: int = signal.SIGTERM) -> None:
        process = subprocess.Popen(command, env=child_environment(), start_new_session=True)
        self.children.append((name, process, stop_signal))

    def _on_signal(self, signum, frame) -> None:
        self.stopping = True

    def run(self, on_started: Callable[[], None] | None = None) -> int:
        previous = {
            sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            if on_started:
                on_started()
            while not self.stopping:
                for name, process, _sig in self.children:
                    code = process.poll()
                    if code is not None:
                        self.stdout.write(
                            f"{name} stopped (exit code {code}); stopping the rest.\n"
                        )
                        self.exit_code = code or 1
                        self.stopping = True
                        break
                else:
                    time.sleep(0.5)
            self.stop_all()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return self.exit_code

    def stop_all(self) -> None:
        for _name, process, stop_signal in self.children:
            if process.poll() is None:
                _signal_group(process, stop_signal)
        deadline = time.monotonic() + self.GRACE_SECONDS
        for name, process, _sig in self.children:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.stdout.write(f"{name} did not stop in time; killing it.\n")
                _signal_group(process, signal.SIGKILL)
                process.wait()


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signum)
