"""Runs the scenarios and writes what they measured.

Every result is one JSON object (printed to stdout as a line as soon as it is known) that also
carries the machine's CPU, the git commit, the database vendor and the dataset, so a line read
on its own still says where it came from. A run ends by writing `bench/out/<timestamp>.json`
and regenerating `bench/RESULTS.md`.
"""

from __future__ import annotations

import contextlib
import datetime
import io
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench import scenarios

BENCH_DIR = Path(__file__).resolve().parent
OUT_DIR = BENCH_DIR / "out"
ALL_SCENARIOS = [
    "list", "search", "detail", "calendar", "activities", "leads", *scenarios.SALES_SCENARIOS,
    "import", "dupscan", "mixed",
]  # fmt: skip


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- where the figures come from -------------------------------------------------------------
def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def git_commit() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            cwd=BENCH_DIR.parent,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=BENCH_DIR.parent,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        return head + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def dataset_info() -> dict[str, Any]:
    from bench.generate import SIZES, read_dataset_marker
    from guanxi.activities.models import Activity, FollowUp
    from guanxi.core.models import User
    from guanxi.customers.models import Account, Contact
    from guanxi.leads.models import Lead
    from guanxi.sales.models import Opportunity

    marker = read_dataset_marker()
    accounts = Account.all_objects.count()
    label = marker.get("size")
    if not label:
        label = next((name for name, s in SIZES.items() if s.accounts == accounts), "custom")
    return {
        "size": label,
        "seed": marker.get("seed"),
        "accounts": accounts,
        "contacts": Contact.all_objects.count(),
        "activities": Activity.all_objects.count(),
        "follow_ups": FollowUp.all_objects.count(),
        "leads": Lead.all_objects.count(),
        "opportunities": Opportunity.all_objects.count(),
        "users": User.objects.count(),
        "generated_rows_per_second": marker.get("rows_per_second"),
        "generated_seconds": marker.get("seconds"),
        "generated_jobs": marker.get("jobs"),
    }


# The PostgreSQL settings a reader needs to compare figures (the rest are defaults).
PG_SETTINGS = ("shared_buffers", "effective_cache_size", "work_mem", "random_page_cost", "jit")


def run_meta() -> dict[str, Any]:
    import django
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("select sqlite_version()")
        else:
            cursor.execute("select version()")
        version = str(cursor.fetchone()[0]).split(" on ")[0]
        settings = {}
        if connection.vendor == "postgresql":
            for name in PG_SETTINGS:
                cursor.execute(f"show {name}")
                settings[name] = cursor.fetchone()[0]
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return {
        "machine": {
            "cpu": cpu_model(),
            "cores": os.cpu_count(),
            "load_average_at_start": [round(x, 2) for x in load],
            "python": platform.python_version(),
            "django": django.get_version(),
        },
        "commit": git_commit(),
        "database": {"vendor": connection.vendor, "version": version, "settings": settings},
        "dataset": dataset_info(),
        "started_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }


def with_verdict(kind: str, result: dict[str, Any]) -> dict[str, Any]:
    target, ok = scenarios.verdict(kind, result)
    result["target"] = target
    result["pass"] = ok
    return result


# --- request scenarios (in process) ----------------------------------------------------------
def run_request_scenarios(
    names: Sequence[str],
    users: dict[str, Any],
    *,
    iterations: int,
    warmup: int,
    emit: Callable[[dict], None],
    cases: Sequence[str] | None = None,
) -> None:
    for name in names:
        builder = scenarios.CASE_BUILDERS[name]
        for role, user in users.items():
            for case in builder(role, user):
                if cases and case.name not in cases:
                    continue
                result = scenarios.run_case(case, user, iterations=iterations, warmup=warmup)
                emit(with_verdict(case.scenario, result))


# --- import ----------------------------------------------------------------------------------
class _Rollback(Exception):
    pass


def import_csv(rows: int, *, seed: int = 7) -> bytes:
    """An accounts CSV as people send them: Chinese headers, ~5% rows already in the database
    (same phone: the duplicate check skips them) and ~2% bad phone numbers."""
    import csv
    import random

    from bench.generate import Faker
    from guanxi.customers.models import Account

    rng = random.Random(f"{seed}:import")
    faker = Faker(rng)
    existing = list(
        Account.objects.exclude(phone="").order_by("-id").values_list("name", "phone")[:500]
    )
    industries = ["制造业", "信息技术", "金融", "零售", "教育", "医疗", ""]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["客户名称", "类型", "行业", "电话", "邮箱", "地址", "备注"])
    for i in range(rows):
        province, city = faker.place()
        roll = rng.random()
        if existing and roll < 0.05:
            name, phone = existing[rng.randrange(len(existing))]
        else:
            core = faker.company_core()
            name = (
                faker.chinese_company(province, city, core)
                if roll < 0.6
                else faker.english_company()
            )
            name = f"{name} {i}" if roll >= 0.6 else name
            phone = faker.phone(landline_share=0.3).display
            if roll > 0.98:
                phone = "12345"
        email = (
            f"info{i}@{faker.ascii_handle(name)[:12] or 'example'}.com"
            if rng.random() < 0.5
            else ""
        )
        _district, address = faker.address(province, city)
        writer.writerow(
            [
                name,
                "公司",
                rng.choice(industries),
                phone,
                email,
                address,
                "" if i % 7 else "展会名单",
            ]
        )
    return buffer.getvalue().encode("utf-8")


def run_import(*, rows: int, admin) -> dict[str, Any]:
    """The import engine on a generated CSV (duplicate policy "skip"), inside a transaction
    that is rolled back so the dataset stays as generated."""
    from importlib import util

    if util.find_spec("bench.import_accounts") is not None:
        from bench import import_accounts  # written alongside, when present

        runner = getattr(import_accounts, "run", None)
        if callable(runner):
            result = dict(runner(rows=rows))
            result.setdefault("scenario", "import")
            result.setdefault("case", "import_accounts_csv")
            return result

    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import transaction

    from guanxi.core.imports import services as imports
    from guanxi.core.models import ImportJob, ImportStatus
    from guanxi.core.search.chinese import jieba_words, syllables

    jieba_words("北京华为技术有限公司")  # load the dictionaries before the clock starts
    syllables("华为")
    raw = import_csv(rows)
    upload = SimpleUploadedFile("bench-accounts.csv", raw, content_type="text/csv")
    job = imports.import_job_upload(
        user=admin, model_label="customers.account", uploaded_file=upload, policy="skip"
    )
    outcome: dict[str, Any] = {}
    try:
        with transaction.atomic():
            ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.QUEUED)
            started = time.perf_counter()
            done = imports.import_job_process(job.pk)
            elapsed = time.perf_counter() - started
            outcome = {
                "status": done.status,
                "created": done.created_count,
                "skipped": done.skipped_count,
                "failed": done.failed_count,
                "seconds": round(elapsed, 2),
            }
            raise _Rollback
    except _Rollback:
        pass
    finally:
        with contextlib.suppress(Exception):
            job.file.delete(save=False)
        ImportJob.objects.filter(pk=job.pk).delete()
    seconds = outcome.get("seconds") or 0.0
    return {
        "scenario": "import",
        "case": "import_accounts_csv",
        "user": "admin",
        "username": admin.username,
        "rows": rows,
        **outcome,
        "rows_per_second": round(rows / seconds, 1) if seconds else None,
        "note": "through the import engine (services, validation, duplicate check), rolled back",
    }


# --- duplicate scan --------------------------------------------------------------------------
def run_dupscan(*, admin) -> dict[str, Any]:
    from guanxi.customers.duplicates import duplicate_scan_run
    from guanxi.customers.models import Account, DuplicateScan

    accounts = Account.objects.count()
    scan = DuplicateScan.objects.create(model_label="customers.account", created_by=admin)
    try:
        started = time.perf_counter()
        scan = duplicate_scan_run(scan=scan)
        elapsed = time.perf_counter() - started
        result = {
            "scenario": "dupscan",
            "case": "duplicate_scan_accounts",
            "user": "admin",
            "accounts": accounts,
            "status": scan.status,
            "blocks": scan.blocks_total,
            "pairs_found": scan.pairs_found,
            "seconds": round(elapsed, 2),
            "accounts_per_second": round(accounts / elapsed, 1) if elapsed else None,
            # Linear extrapolation; blocks grow with the table, so this is a lower bound.
            "extrapolated_1m_seconds": round(elapsed * 1_000_000 / accounts, 1)
            if accounts
            else None,
        }
    finally:
        DuplicateScan.objects.filter(pk=scan.pk).delete()
    return result


# --- mixed workload against a real server ----------------------------------------------------
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _children(pid: int) -> list[int]:
    found = []
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with contextlib.suppress(OSError):
                text = Path(f"/proc/{pid}/task/{task}/children").read_text()
                found += [int(x) for x in text.split()]
    return found


def _status_kb(pid: int, key: str) -> int:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def _wait_for_server(port: int, process: subprocess.Popen, timeout: float = 90.0) -> None:
    import http.client

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with code {process.returncode}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/login/")
            connection.getresponse().read()
            connection.close()
            return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("gunicorn did not answer in time")


def _session_cookie(user) -> str:
    from django.conf import settings
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def mixed_urls(role: str, user) -> list[str]:
    """A reading user's day: lists (HTML and API, filtered, sorted), searches, account pages."""
    urls: list[str] = []
    lists = [case.urls[0] for case in scenarios.list_cases(role, user)]
    searches = [url for case in scenarios.search_cases(role, user) for url in case.urls[:4]]
    # The account pages as before (comparable with earlier runs); the sections they load
    # on scrolling are measured on their own by the detail scenario.
    details = [
        url
        for case in scenarios.detail_cases(role, user)
        if case.name == "account_detail_html"
        for url in case.urls
    ]
    for i in range(max(len(details), 12)):
        urls.append(lists[i % len(lists)])
        if details:
            urls.append(details[i % len(details)])
        if searches:
            urls.append(searches[i % len(searches)])
        if i % 2 == 0:
            urls.append("/customers/accounts/" if i % 4 == 0 else "/api/v1/accounts/")
    return urls


def run_mixed(
    users: dict[str, Any], *, clients: int, workers: int, seconds: float, max_requests: int
) -> dict[str, Any]:
    from guanxi.core.management import runtime

    port = _free_port()
    command = runtime.gunicorn_command(host="127.0.0.1", port=port, workers=workers)
    plan_clients = []
    roles = list(users)
    per_role = {
        role: (_session_cookie(user), mixed_urls(role, user)) for role, user in users.items()
    }
    for index in range(clients):
        cookie, urls = per_role[roles[index % len(roles)]]
        plan_clients.append({"cookie": cookie, "urls": urls})
    plan = {
        "host": "127.0.0.1",
        "port": port,
        "seconds": seconds,
        "max_requests": max_requests,
        "clients": plan_clients,
    }
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    server_log_path = OUT_DIR / "gunicorn-last.log"
    server_log = server_log_path.open("w")
    server = subprocess.Popen(
        command,
        env=runtime.child_environment(),
        stdout=subprocess.DEVNULL,  # the access log
        stderr=server_log,  # errors and tracebacks, for the report when requests fail
        start_new_session=True,
    )
    peak_rss_kb: dict[int, int] = {}
    measured: dict[str, Any] = {}
    try:
        _wait_for_server(port, server)
        worker_pids = _children(server.pid)
        # Warm each worker up (imports, jieba, template caches) before measuring.
        warm = dict(plan, seconds=10.0, max_requests=20 * max(1, workers) * len(roles))
        warm["clients"] = plan_clients[: len(roles)]
        subprocess.run(
            [sys.executable, "-m", "bench.loadgen"],
            input=json.dumps(warm),
            capture_output=True,
            text=True,
            check=True,
            cwd=BENCH_DIR.parent,
        )
        load = subprocess.Popen(
            [sys.executable, "-m", "bench.loadgen"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=BENCH_DIR.parent,
        )
        load.stdin.write(json.dumps(plan))
        load.stdin.close()
        while load.poll() is None:
            for pid in _children(server.pid):
                peak_rss_kb[pid] = max(peak_rss_kb.get(pid, 0), _status_kb(pid, "VmRSS"))
            time.sleep(0.2)
        output = load.stdout.read()
        if load.returncode != 0:
            raise RuntimeError(f"load generator failed: {load.stderr.read()[-2000:]}")
        measured = json.loads(output)
        worker_pids = _children(server.pid) or worker_pids
        hwm = {pid: _status_kb(pid, "VmHWM") for pid in worker_pids}
        for pid, value in hwm.items():
            peak_rss_kb[pid] = max(peak_rss_kb.get(pid, 0), value)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        server_log.close()
    errors_sample = ""
    if measured.get("errors"):
        with contextlib.suppress(OSError):
            lines = server_log_path.read_text(errors="replace").splitlines()
            errors_sample = "\n".join(lines[-15:])
    peak_worker = max(peak_rss_kb.values(), default=0) / 1024
    return {
        "scenario": "mixed",
        "case": "mixed_read_workload",
        "user": "+".join(roles),
        "server": f"gunicorn guanxi.wsgi -w {workers} (sync)",
        "distinct_urls": sum(len(urls) for _cookie, urls in per_role.values()),
        **measured,
        "server_log_tail": errors_sample,
        "peak_worker_rss_mb": round(peak_worker, 1),
        "worker_rss_mb": {str(pid): round(kb / 1024, 1) for pid, kb in sorted(peak_rss_kb.items())},
    }


# --- the run ---------------------------------------------------------------------------------
def expand_scenarios(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names or "all" in names:
        return list(ALL_SCENARIOS)
    unknown = [name for name in names if name not in ALL_SCENARIOS]
    if unknown:
        raise SystemExit(f"unknown scenario(s): {', '.join(unknown)}; choose from {ALL_SCENARIOS}")
    return names


def run(
    *,
    scenario_names: Sequence[str],
    roles: Sequence[str],
    iterations: int = 50,
    warmup: int = 5,
    mixed: dict[str, Any] | None = None,
    import_rows: int = 2000,
    write: bool = True,
    cases: Sequence[str] | None = None,
    stream=None,
    log: Callable[[str], None] = _log,
) -> dict[str, Any]:
    """Run the scenarios; answer {"meta": ..., "results": [...]} (and write it when asked)."""
    from django.conf import settings

    if not getattr(settings, "TESTING", False):
        from guanxi.core.management.runtime import prepare_database

        prepare_database()  # the code may have moved on since the dataset was generated
    meta = run_meta()
    results: list[dict[str, Any]] = []
    html_scenarios = ("list", "detail", "activities", "leads", "mixed", *scenarios.SALES_SCENARIOS)
    if any(name in scenario_names for name in html_scenarios):
        from django.conf import settings

        if not (settings.DEBUG or getattr(settings, "TESTING", False)):
            from guanxi.core.management.runtime import collect_static_if_stale

            collect_static_if_stale()

    def emit(result: dict[str, Any]) -> None:
        row = {
            **result,
            "machine": meta["machine"]["cpu"],
            "cores": meta["machine"]["cores"],
            "commit": meta["commit"],
            "database": meta["database"]["vendor"],
            "dataset": meta["dataset"]["size"],
            "accounts": meta["dataset"]["accounts"],
        }
        results.append(row)
        if stream is not None:
            stream.write(json.dumps(row, ensure_ascii=False) + "\n")
            stream.flush()
        summary = ", ".join(
            f"{key} {row[key]}"
            for key in ("p50_ms", "p95_ms", "requests_per_second", "rows_per_second", "seconds")
            if row.get(key) is not None
        )
        log(f"  {row['scenario']:8} {row['case']:30} {row.get('user', ''):8} {summary}")

    users = scenarios.bench_users(roles)
    log(
        f"Dataset {meta['dataset']['size']} ({meta['dataset']['accounts']:,} accounts) on "
        f"{meta['database']['vendor']}; users: "
        + ", ".join(f"{role}={user.username}" for role, user in users.items())
    )
    request_names = [name for name in scenario_names if name in scenarios.CASE_BUILDERS]
    run_request_scenarios(
        request_names, users, iterations=iterations, warmup=warmup, emit=emit, cases=cases
    )
    admin = users.get("admin") or scenarios.bench_users(["admin"])["admin"]
    if "import" in scenario_names:
        emit(with_verdict("import", run_import(rows=import_rows, admin=admin)))
    if "dupscan" in scenario_names:
        emit(with_verdict("dupscan", run_dupscan(admin=admin)))
    if "mixed" in scenario_names:
        options = {"clients": 16, "workers": 2, "seconds": 20.0, "max_requests": 20000}
        options.update(mixed or {})
        result = run_mixed(users, **options)
        result = with_verdict("mixed", result)
        rss_target, rss_ok = scenarios.verdict("mixed_rss", result)
        result["rss_target"], result["rss_pass"] = rss_target, rss_ok
        emit(result)
    meta["finished_at"] = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    document = {"meta": meta, "results": results}
    if write:
        OUT_DIR.mkdir(parents=True, exist_ok=True)
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        path = OUT_DIR / f"{stamp}.json"
        path.write_text(json.dumps(document, ensure_ascii=False, indent=2))
        from bench.report import write_results_md

        results_md = write_results_md()
        log(f"Wrote {path} and {results_md}")
    return document


def run_from_args(args) -> int:
    names = expand_scenarios(args.scenario)
    roles = [role.strip() for role in args.users.split(",") if role.strip()]
    run(
        scenario_names=names,
        roles=roles,
        iterations=args.iterations,
        warmup=args.warmup,
        mixed={
            "clients": args.mixed_clients,
            "workers": args.mixed_workers,
            "seconds": args.mixed_seconds,
            "max_requests": args.mixed_max_requests,
        },
        import_rows=args.import_rows,
        write=not args.no_write,
        cases=[c.strip() for c in args.cases.split(",") if c.strip()] if args.cases else None,
        stream=sys.stdout,
    )
    return 0
