"""The `guanxi` command: help, argument hand-over, check, createadmin, first administrator,
the process supervisor, and a real `guanxi serve` answering HTTP."""

import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from guanxi import cli
from guanxi.core.management import runtime
from guanxi.core.models import User
from guanxi.core.scope import is_administrator

PROJECT = Path(__file__).resolve().parents[3]


def test_help_lists_every_command(capsys):
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in ("serve", "web", "worker", "demo", "createadmin", "backup", "restore", "check"):
        assert re.search(rf"^\s+{name}\s", out, re.MULTILINE), name
    assert "manage" in out


def test_help_runs_as_a_program(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "guanxi.cli", "--help"],
        capture_output=True,
        text=True,
        cwd=PROJECT,
        env={**os.environ, "GUANXI_DATA_DIR": str(tmp_path)},
        timeout=60,
    )
    assert result.returncode == 0
    assert "serve" in result.stdout and "backup" in result.stdout


def test_commands_map_to_management_commands():
    assert cli.django_argv(["check"]) == ["guanxi_check"]
    assert cli.django_argv(["serve", "--port", "9000"]) == ["serve", "--port", "9000"]
    assert cli.django_argv(["manage", "migrate", "--plan"]) == ["migrate", "--plan"]
    # Anything unknown goes to manage.py as it is.
    assert cli.django_argv(["showmigrations", "core"]) == ["showmigrations", "core"]


def test_every_guanxi_command_exists():
    from django.core.management import get_commands

    available = get_commands()
    for name, (command, _help) in cli.COMMANDS.items():
        if name not in {"manage", "bench"}:  # bench runs the harness, not manage.py
            assert command in available, command


@pytest.mark.django_db
def test_check_reports_ok_on_the_test_settings():
    out = StringIO()
    call_command("guanxi_check", stdout=out)
    text = out.getvalue()
    assert "FAIL" not in text
    assert re.search(r"^OK\s+database reachable", text, re.MULTILINE)
    assert re.search(r"^OK\s+all migrations applied", text, re.MULTILINE)
    assert re.search(r"^OK\s+cache works", text, re.MULTILINE)


@pytest.mark.django_db
def test_check_fails_on_a_broken_configuration():
    out = StringIO()
    with (
        override_settings(ALLOWED_HOSTS=[], REDIS_URL="redis://127.0.0.1:9/0"),
        pytest.raises(SystemExit) as exit_info,
    ):
        call_command("guanxi_check", stdout=out, stderr=StringIO())
    assert exit_info.value.code == 1
    text = out.getvalue()
    assert re.search(r"^FAIL\s+GUANXI_ALLOWED_HOSTS is empty", text, re.MULTILINE)
    assert re.search(r"^FAIL\s+Redis at redis://127.0.0.1:9/0 is not reachable", text, re.M)


@pytest.mark.django_db
def test_check_reaches_a_running_redis():
    url = os.environ.get("GUANXI_TEST_REDIS_URL")
    if not url:
        if os.environ.get("CI") == "true":
            pytest.fail("CI must provide GUANXI_TEST_REDIS_URL (scripts/test.sh starts Redis)")
        pytest.skip("no Redis for the tests (scripts/test.sh starts one)")
    from guanxi.core.management.commands.guanxi_check import check_redis

    with override_settings(REDIS_URL=url):
        assert check_redis() == ("OK", f"Redis reachable at {url}")


@pytest.mark.django_db
def test_check_warns_about_debug():
    from guanxi.core.management.commands.guanxi_check import check_debug

    assert check_debug()[0] == "OK"
    with override_settings(DEBUG=True):
        assert check_debug()[0] == "WARN"


@pytest.mark.django_db
def test_createadmin_creates_an_administrator():
    out = StringIO()
    call_command(
        "createadmin",
        username="boss",
        password="Lotus-Bridge-4711",
        email="boss@example.com",
        no_input=True,
        stdout=out,
    )
    user = User.objects.get(username="boss")
    assert user.check_password("Lotus-Bridge-4711")
    assert user.email == "boss@example.com"
    assert list(user.roles.values_list("code", flat=True)) == ["admin"]
    assert is_administrator(user)
    with pytest.raises(CommandError, match="already exists"):
        call_command("createadmin", username="boss", password="x", no_input=True)


@pytest.mark.django_db
def test_createadmin_generates_a_password_when_none_is_given():
    out = StringIO()
    call_command("createadmin", username="chief", no_input=True, stdout=out)
    password = re.search(r"password:\s+(\S+)", out.getvalue()).group(1)
    assert User.objects.get(username="chief").check_password(password)


@pytest.mark.django_db
def test_createadmin_refuses_a_weak_password():
    with pytest.raises(CommandError):
        call_command("createadmin", username="weak", password="123", no_input=True)
    assert not User.objects.filter(username="weak").exists()


@pytest.mark.django_db
def test_first_administrator_is_created_once_with_a_generated_password(monkeypatch):
    monkeypatch.delenv("GUANXI_ADMIN_USERNAME", raising=False)
    monkeypatch.delenv("GUANXI_ADMIN_PASSWORD", raising=False)
    out = StringIO()
    runtime.ensure_first_administrator(url="http://127.0.0.1:8000/", stdout=out)
    text = out.getvalue()
    assert "http://127.0.0.1:8000/" in text
    password = re.search(r"password:\s+(\S+)", text).group(1)
    admin = User.objects.get(username="admin")
    assert admin.check_password(password)
    assert is_administrator(admin)

    again = StringIO()
    runtime.ensure_first_administrator(url="http://127.0.0.1:8000/", stdout=again)
    assert again.getvalue() == ""
    assert User.objects.count() == 1


@pytest.mark.django_db
def test_first_administrator_from_the_environment(monkeypatch):
    monkeypatch.setenv("GUANXI_ADMIN_USERNAME", "root.admin")
    monkeypatch.setenv("GUANXI_ADMIN_PASSWORD", "Jade-River-2024")
    out = StringIO()
    runtime.ensure_first_administrator(url="http://x/", stdout=out)
    assert "Jade-River-2024" not in out.getvalue()
    assert User.objects.get(username="root.admin").check_password("Jade-River-2024")


@pytest.mark.django_db
def test_no_first_administrator_when_one_exists(org, monkeypatch):
    monkeypatch.delenv("GUANXI_ADMIN_USERNAME", raising=False)
    before = User.objects.count()
    runtime.ensure_first_administrator(url="http://x/", stdout=StringIO())
    assert User.objects.count() == before


def test_static_files_are_collected_only_when_stale(tmp_path):
    with override_settings(STATIC_ROOT=tmp_path / "static"):
        assert runtime.static_is_stale()
        assert runtime.collect_static_if_stale() is True
        assert (tmp_path / "static" / runtime.STATIC_STAMP).exists()
        assert not runtime.static_is_stale()
        assert runtime.collect_static_if_stale() is False


SLEEPER = [sys.executable, "-c", "import time; time.sleep(120)"]


def test_supervisor_stops_every_child_on_sigterm():
    supervisor = runtime.Supervisor(StringIO())
    supervisor.start("one", SLEEPER)
    supervisor.start("two", SLEEPER, signal.SIGINT)

    def started():
        os.kill(os.getpid(), signal.SIGTERM)

    assert supervisor.run(on_started=started) == 0
    for _name, process, _sig in supervisor.children:
        assert process.poll() is not None


def test_supervisor_stops_the_rest_when_one_child_dies():
    out = StringIO()
    supervisor = runtime.Supervisor(out)
    supervisor.start("sleeper", SLEEPER)
    supervisor.start("crasher", [sys.executable, "-c", "raise SystemExit(3)"])
    assert supervisor.run() == 3
    assert "crasher stopped (exit code 3)" in out.getvalue()
    assert all(process.poll() is not None for _n, process, _s in supervisor.children)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_serve_runs_web_server_and_worker_and_stops_on_sigterm(tmp_path):
    """The whole `guanxi serve`: set-up, gunicorn + Huey, HTTP answers, clean stop."""
    port = _free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTEST", "GUANXI_ADMIN"))
    }
    env.update(GUANXI_DATA_DIR=str(tmp_path), GUANXI_TESTING="0", GUANXI_DEBUG="0")
    env.pop("DATABASE_URL", None)
    log = tmp_path / "serve.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "guanxi.cli", "serve", "--port", str(port), "--workers", "1"],
            cwd=PROJECT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 120
            status = None
            while time.monotonic() < deadline and process.poll() is None:
                try:
                    status = _get(f"http://127.0.0.1:{port}/login/")
                    break
                except OSError:
                    time.sleep(0.2)
            text = log.read_text()
            assert status == 200, text
            assert f"Guanxi is running at http://127.0.0.1:{port}/" in text
            assert re.search(r"username:\s+admin", text)
            assert "run_huey" in " ".join(_children_commands(process.pid))
        finally:
            process.send_signal(signal.SIGTERM)
            code = process.wait(timeout=60)
    assert code == 0, log.read_text()
    assert "Guanxi stopped." in log.read_text()
    assert (tmp_path / "guanxi.sqlite3").exists()


def _children_commands(pid: int) -> list[str]:
    """Command lines of the processes whose parent is `pid` (read from /proc)."""
    commands = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                commands.append((stat.parent / "cmdline").read_text().replace("\0", " "))
        except (OSError, IndexError, ValueError):
            continue
    return commands
