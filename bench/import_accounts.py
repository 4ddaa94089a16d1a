"""Benchmark: import N accounts from a CSV through the real import services.

Generates a seeded CSV (Chinese headers, a share of bad rows: bad e-mail, missing name,
unknown industry), uploads it as an administrator, runs the job's worker body (batches,
validation through record_create, duplicate check, row errors) and prints JSON:

    {"rows": ..., "good": ..., "bad": ..., "seconds": ..., "rows_per_second": ...}

By default it works on a fresh SQLite database in a temporary folder (GUANXI_DATA_DIR), so
nothing of yours is touched. Set DATABASE_URL to measure on PostgreSQL (it must be empty
or disposable: the script migrates it and adds a user and accounts).

    .venv/bin/python bench/import_accounts.py --rows 10000 --bad 0.05
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

INDUSTRIES = ["制造业", "信息技术", "金融", "零售", "教育", "Healthcare", "logistics"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
WORDS = ["科技", "贸易", "实业", "网络", "电子", "建设", "医药", "物流", "文化", "食品"]
CITIES = ["上海", "北京", "杭州", "深圳", "南京", "成都", "武汉", "苏州"]


def generate_csv(path: Path, *, rows: int, bad_share: float, seed: int) -> tuple[int, int]:
    rng = random.Random(seed)
    bad_rows = set(rng.sample(range(rows), round(rows * bad_share)))
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        handle.write("客户名称,电话,邮箱,行业,地址,备注\n")
        for index in range(rows):
            city = rng.choice(CITIES)
            name = f"{city}{rng.choice(SURNAMES)}{rng.choice(WORDS)}有限公司{index:07d}"
            phone = f"13{rng.randint(0, 9)}{index:08d}"
            email = f"info{index}@example.cn"
            industry = rng.choice(INDUSTRIES)
            if index in bad_rows:
                problem = index % 3
                if problem == 0:
                    email = "not-an-email"
                elif problem == 1:
                    name = ""
                else:
                    industry = "不存在的行业"
            handle.write(f"{name},{phone},{email},{industry},{city}市某路{index}号,导入测试\n")
    return rows - len(bad_rows), len(bad_rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--bad", type=float, default=0.05, help="share of bad rows, 0..1")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--batch", type=int, default=500, help="rows per committed batch")
    parser.add_argument(
        "--policy",
        choices=["skip", "update", "create"],
        default="skip",
        help="duplicate policy; the generated names differ only by a number, so the fuzzy "
        "duplicate check treats many as duplicates under skip/update",
    )
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="guanxi-bench-import-"))
    os.environ.setdefault("GUANXI_DATA_DIR", str(workdir))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guanxi.settings")
    os.environ["GUANXI_HUEY_IMMEDIATE"] = "1"
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

    import django

    django.setup()
    from django.conf import settings
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import call_command

    settings.GUANXI_IMPORT_BATCH_SIZE = args.batch
    settings.GUANXI_IMPORT_MAX_ROWS = max(args.rows, 100_000)
    settings.GUANXI_IMPORT_MAX_BYTES = 1024 * 1024 * 1024
    call_command("migrate", verbosity=0, interactive=False)

    from guanxi.core.imports.services import import_job_process, import_job_upload
    from guanxi.core.models import ImportJob, ImportStatus, Role, User
    from guanxi.core.services.organisation import user_create
    from guanxi.customers.models import Account

    actor = User.objects.filter(username="bench.importer").first() or user_create(
        username="bench.importer",
        password="bench-import-pw",
        actor=None,
        roles=[Role.objects.get(code="admin")],
        display_name="Bench importer",
    )
    csv_path = workdir / "accounts.csv"
    good, bad = generate_csv(csv_path, rows=args.rows, bad_share=args.bad, seed=args.seed)
    before = Account.objects.count()

    started = time.perf_counter()
    job = import_job_upload(
        user=actor,
        model_label="customers.account",
        uploaded_file=SimpleUploadedFile("accounts.csv", csv_path.read_bytes()),
        policy=args.policy,
    )
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.QUEUED)
    job = import_job_process(job.pk)
    seconds = time.perf_counter() - started

    created = Account.objects.count() - before
    result = {
        "rows": args.rows,
        "good": good,
        "bad": bad,
        "created": created,
        "failed": job.failed_count,
        "status": job.status,
        "batch": args.batch,
        "database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
        "seconds": round(seconds, 3),
        "rows_per_second": round(args.rows / seconds, 1) if seconds else None,
    }
    print(json.dumps(result))
    return 0 if (created, job.failed_count) == (good, bad) else 1


if __name__ == "__main__":
    sys.exit(main())
