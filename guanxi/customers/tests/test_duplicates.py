import pytest

from guanxi.core.services.records import record_share
from guanxi.customers import services
from guanxi.customers.duplicates import duplicate_candidates, duplicate_scan_run
from guanxi.customers.models import Account, DuplicateKey, DuplicatePair, DuplicateScan

pytestmark = pytest.mark.django_db


def test_similar_company_name_is_a_candidate(org):
    huawei = services.account_create(actor=org.rep1, data={"name": "北京华为技术有限公司"})
    services.account_create(actor=org.rep1, data={"name": "华夏银行股份有限公司"})
    hits = duplicate_candidates(user=org.rep1, name="华为技术（北京）有限公司")
    assert [hit.pk for hit in hits] == [huawei.pk]
    assert hits[0].visible and hits[0].name == "北京华为技术有限公司"


def test_same_phone_matches_across_accounts_and_contacts(org):
    account = services.account_create(
        actor=org.rep1, data={"name": "明达贸易", "phone": "13812345678"}
    )
    contact = services.contact_create(
        actor=org.rep1, data={"name": "张三"}, phones=[{"number": "+86 138 1234 5678"}]
    )
    hits = duplicate_candidates(user=org.rep1, name="完全不同", phones=["138-1234-5678"])
    assert {(hit.model_label, hit.pk) for hit in hits} == {
        ("customers.account", account.pk),
        ("customers.contact", contact.pk),
    }


def test_a_crowded_name_block_does_not_hide_a_same_phone_duplicate(org, monkeypatch):
    """Candidates are capped per key: the name block "宏达" holding more accounts than the
    cap still leaves the phone key its candidates."""
    from guanxi.customers import duplicates

    monkeypatch.setattr(duplicates, "CANDIDATES_PER_KEY", 2)
    for word in "甲乙丙丁戊己庚":
        services.account_create(actor=org.rep1, data={"name": f"宏达{word}科技有限公司"})
    same_phone = services.account_create(
        actor=org.rep1, data={"name": "天津明达", "phone": "13912345678"}
    )
    hits = duplicate_candidates(user=org.rep1, name="宏达辛科技", phones=["13912345678"])
    assert same_phone.pk in {hit.pk for hit in hits}


def test_invisible_duplicate_reveals_only_that_it_exists_and_its_owner(org):
    services.account_create(actor=org.rep3, data={"name": "上海明达贸易有限公司"})
    [hit] = duplicate_candidates(user=org.rep1, name="明达贸易")
    assert not hit.visible
    assert hit.owner_name == str(org.rep3)
    assert hit.name == "" and hit.url == "" and hit.record is None


def test_shared_duplicate_is_shown_in_full(org):
    account = services.account_create(actor=org.rep3, data={"name": "上海明达贸易有限公司"})
    record_share(instance=account, actor=org.rep3, user=org.rep1)
    [hit] = duplicate_candidates(user=org.rep1, name="明达贸易")
    assert hit.visible and hit.name == "上海明达贸易有限公司"


def test_deleted_records_lose_their_keys(org):
    account = services.account_create(actor=org.rep1, data={"name": "明达贸易"})
    services.account_delete(account=account, actor=org.rep1)
    assert not DuplicateKey.objects.filter(object_id=account.pk).exists()
    assert duplicate_candidates(user=org.rep1, name="明达贸易") == []


def test_scan_finds_pairs_within_blocks_only(org):
    a = services.account_create(actor=org.rep1, data={"name": "北京华为技术有限公司"})
    b = services.account_create(actor=org.rep3, data={"name": "华为技术有限公司"})
    services.account_create(actor=org.rep1, data={"name": "Acme Co., Ltd."})
    c = services.account_create(actor=org.rep1, data={"name": "ACME Ltd"})
    d = services.account_create(actor=org.rep1, data={"name": "完全无关公司"})
    scan = DuplicateScan.objects.create(model_label="customers.account", created_by=org.admin)
    duplicate_scan_run(scan=scan)
    pairs = {(p.first_id, p.second_id) for p in scan.pairs.all()}
    acme = Account.objects.get(name="Acme Co., Ltd.")
    assert pairs == {tuple(sorted((a.pk, b.pk))), tuple(sorted((acme.pk, c.pk)))}
    assert scan.status == "done" and scan.pairs_found == 2
    assert d.pk not in {pk for pair in pairs for pk in pair}


def test_an_import_batch_takes_few_candidates_from_each_name_block(org, monkeypatch):
    """A batch of import rows reads at most IMPORT_CANDIDATES_PER_KEY accounts per blocking
    key, the newest: a million accounts' crowded name blocks stay cheap to import into."""
    from guanxi.core.imports.resources import ImportRow, get_resource
    from guanxi.customers import import_duplicates

    monkeypatch.setattr(import_duplicates, "IMPORT_CANDIDATES_PER_KEY", 2)
    block = [
        services.account_create(actor=org.rep1, data={"name": f"宏达{word}科技有限公司"})
        for word in "甲乙丙丁戊"
    ]
    resource = get_resource("customers.account")
    context = resource.context(user=org.rep1, mapping=["name"])
    row = ImportRow(line=2, values=["宏达辛科技"], data={"name": "宏达辛科技"}, context=context)
    resource.prefetch_duplicates([row], context)
    pooled = {pk for candidates in context.duplicate_pool.by_key.values() for pk in candidates}
    assert pooled == {block[-1].pk, block[-2].pk}


def test_key_holders_reads_the_newest_holders_of_each_key_up_to_the_limit(org):
    from django.contrib.contenttypes.models import ContentType

    from guanxi.customers.duplicates import key_holders
    from guanxi.customers.models import Contact

    account_type = ContentType.objects.get_for_model(Account).pk
    contact_type = ContentType.objects.get_for_model(Contact).pk
    rows = [(account_type, pk) for pk in (1, 2, 3)] + [(contact_type, pk) for pk in (4, 5)]
    DuplicateKey.objects.bulk_create(
        [DuplicateKey(content_type_id=ct, object_id=pk, key="n:宏达") for ct, pk in rows]
        + [DuplicateKey(content_type_id=account_type, object_id=9, key="p:13812345678")]
    )
    keys = ["p:13812345678", "n:宏达", "n:nobody", "n:宏达"]
    assert key_holders(keys, content_type_id=account_type, per_key=2) == [
        ("n:宏达", account_type, 3),
        ("n:宏达", account_type, 2),
        ("p:13812345678", account_type, 9),
    ]
    newest_type = max(account_type, contact_type)
    assert [row for row in key_holders(keys, per_key=2) if row[0] == "n:宏达"] == [
        ("n:宏达", newest_type, 5 if newest_type == contact_type else 3),
        ("n:宏达", newest_type, 4 if newest_type == contact_type else 2),
    ]


def test_scan_pairs_keep_their_reasons_and_a_resumed_scan_adds_none_twice(org):
    a = services.account_create(actor=org.rep1, data={"name": "北京华为技术有限公司"})
    b = services.account_create(
        actor=org.rep3, data={"name": "华为技术有限公司", "phone": "13800138000"}
    )
    c = services.account_create(actor=org.rep1, data={"name": "宏达", "phone": "13800138000"})
    scan = DuplicateScan.objects.create(model_label="customers.account", created_by=org.admin)
    duplicate_scan_run(scan=scan)
    reasons = {(p.first_id, p.second_id): (p.score, p.reasons) for p in scan.pairs.all()}
    assert reasons == {
        (a.pk, b.pk): (100.0, ["Similar name (100%)"]),
        (b.pk, c.pk): (100.0, ["Same phone number"]),
    }
    duplicate_scan_run(scan=scan)  # run again, as after a worker restart
    assert scan.pairs.count() == 2


def test_scan_pairs_are_inserted_many_rows_per_statement(org, monkeypatch):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from guanxi.customers import duplicates

    monkeypatch.setattr(duplicates, "PAIRS_PER_INSERT", {})
    monkeypatch.setattr(duplicates, "DEFAULT_PAIRS_PER_INSERT", 2)
    for _ in range(3):  # three accounts on one phone: three pairs
        services.account_create(actor=org.rep1, data={"name": "宏达", "phone": "13800138000"})
    scan = DuplicateScan.objects.create(model_label="customers.account", created_by=org.admin)
    with CaptureQueriesContext(connection) as captured:
        duplicate_scan_run(scan=scan)
    inserts = [q["sql"] for q in captured.captured_queries if "INSERT INTO" in q["sql"]]
    inserts = [sql for sql in inserts if "duplicatepair" in sql]
    assert scan.pairs_found == 3 == scan.pairs.count()
    assert len(inserts) == 2  # two pairs in the first statement, one in the second


def test_a_pair_stored_twice_in_one_scan_is_refused_not_duplicated(org):
    """The scan inserts without ON CONFLICT: its `seen` set leaves stored pairs out, and a
    second run of the same scan at the same time fails on the unique constraint."""
    from django.db import IntegrityError, transaction

    from guanxi.customers import duplicates

    scan = DuplicateScan.objects.create(model_label="customers.account", created_by=org.admin)
    reasons = duplicates._ReasonsColumn()
    pair = (2, 1, 100.0, reasons((1, 0, None)))
    duplicates._insert_pairs(scan, [pair], reasons)
    with pytest.raises(IntegrityError), transaction.atomic():
        duplicates._insert_pairs(scan, [pair], reasons)
    assert [(p.first_id, p.second_id, p.reasons) for p in scan.pairs.all()] == [
        (2, 1, ["Same phone number"])
    ]


def test_deleting_a_scan_deletes_its_pairs(org):
    """The pairs' scan column has no foreign key in the database: the ORM's cascade
    deletes them."""
    services.account_create(actor=org.rep1, data={"name": "宏达", "phone": "13800138000"})
    services.account_create(actor=org.rep3, data={"name": "远东", "phone": "13800138000"})
    scan = DuplicateScan.objects.create(model_label="customers.account", created_by=org.admin)
    duplicate_scan_run(scan=scan)
    assert scan.pairs.count() == 1
    scan.delete()
    assert not DuplicatePair.objects.exists()
