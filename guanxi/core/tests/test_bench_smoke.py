"""The benchmark harness still works: a toy dataset generates into the test database with
every constraint satisfied, and the list scenario produces the expected JSON. No timing is
asserted here: performance is measured by `python -m bench run`, never by the test suite."""

import json

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import transaction

from bench import generate, runner, scenarios
from guanxi.core.models import ChangeRecord, SearchEntry, User
from guanxi.core.search.selectors import search
from guanxi.customers.duplicates import record_keys
from guanxi.customers.models import Account, AccountContact, Contact, DuplicateKey

pytestmark = pytest.mark.django_db


@pytest.fixture
def toy(db):
    return generate.generate(
        size="toy", seed=3, accounts=60, users=5, departments=3, analyze=False, write_marker=False,
        log=lambda message: None,
    )  # fmt: skip


def test_toy_dataset_looks_service_made(toy):
    assert toy["rows"]["customers_account"] == 60
    assert Account.objects.count() == 60
    assert Contact.objects.count() == 60 * generate.CONTACTS_PER_ACCOUNT
    assert User.objects.count() == 5
    for account in Account.objects.select_related("owner"):
        # Department follows the owner; phone digits are the normalised phone's.
        assert account.department_id == account.owner.department_id
        if account.phone:
            assert account.phone_digits.isdigit()
        if account.kind == Account.Kind.INDIVIDUAL:
            assert account.person_id is not None
        # Links are owned like their account.
        links = AccountContact.objects.filter(account=account)
        assert links.count() == generate.CONTACTS_PER_ACCOUNT
        assert {link.owner_id for link in links} == {account.owner_id}
    account = Account.objects.filter(kind=Account.Kind.COMPANY).exclude(phone="").first()
    account_type = ContentType.objects.get_for_model(Account)
    stored = set(
        DuplicateKey.objects.filter(content_type=account_type, object_id=account.pk).values_list(
            "key", flat=True
        )
    )
    assert stored == record_keys(account)
    assert SearchEntry.objects.filter(content_type=account_type).count() == 60
    assert ChangeRecord.objects.filter(content_type=account_type, action="create").count() == 60
    # The full-text side followed the bulk insert: the phone finds its account.
    admin = User.objects.filter(roles__is_admin=True).first()
    hits = search(user=admin, q=account.phone_digits)
    assert account.pk in [hit.pk for hit in hits if hit.model == "customers.account"]


class _Rollback(Exception):
    pass


def _toy_rows(seed: int) -> list[tuple]:
    """Generate a toy dataset, read it back, and roll it all away."""
    rows: list[tuple] = []
    try:
        with transaction.atomic():
            generate.generate(
                size="toy", seed=seed, accounts=30, users=4, departments=3, analyze=False,
                write_marker=False, log=lambda message: None,
            )  # fmt: skip
            rows = list(
                Account.objects.order_by("created_at").values_list(
                    "name", "phone", "email", "created_at", "owner__username"
                )
            )
            raise _Rollback
    except _Rollback:
        pass
    return rows


def test_generation_is_reproducible_from_the_seed(db):
    first, again, other = _toy_rows(5), _toy_rows(5), _toy_rows(6)
    assert len(first) == 30
    assert first == again
    assert first != other


def test_list_scenario_answers_the_expected_json(toy, tmp_path):
    document = runner.run(
        scenario_names=["list"],
        roles=["rep"],
        iterations=3,
        warmup=0,
        write=False,
        cases=["list_html", "list_api"],
    )
    json.dumps(document)  # serialisable as written to bench/out
    results = document["results"]
    assert {row["case"] for row in results} == {"list_html", "list_api"}
    for row in results:
        assert row["scenario"] == "list"
        assert row["user"] == "rep"
        assert row["status_counts"] == {"200": 3}
        assert row["errors"] == 0
        for key in ("p50_ms", "p95_ms", "p99_ms", "max_ms", "requests_per_second"):
            assert row[key] >= 0
        assert row["p50_ms"] <= row["p95_ms"] <= row["p99_ms"] <= row["max_ms"]
        assert row["queries_per_request"] > 0
        assert row["floor_p50_ms"] is not None and row["floor_p50_ms"] >= 0
        assert "customers_account" in row["floor_sql"]
        assert row["target"] == scenarios.TARGETS["list"]["text"]
        assert row["pass"] in (True, False)
        for key in ("machine", "commit", "database", "dataset", "accounts"):
            assert key in row
    assert document["meta"]["dataset"]["accounts"] == 60
    # The report renders these rows as a table next to the targets.
    from bench import report

    text = report.render(report.latest_per_dataset([{**document, "_file": "test.json"}]))
    assert "list_html" in text and "p95 < 50 ms" in text
