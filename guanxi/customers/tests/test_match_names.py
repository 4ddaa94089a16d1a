"""Prepared names kept in the database: read in bulk by imports and scans, stored on a miss."""

import pytest

from guanxi.customers import matching, services
from guanxi.customers.duplicates import duplicate_scan_run
from guanxi.customers.match_names import prepared_names, stored_prepared_names
from guanxi.customers.models import DuplicateScan, MatchName

pytestmark = pytest.mark.django_db


@pytest.fixture
def prepared_calls(monkeypatch):
    """The names matching.prepare_name is asked to prepare from now on."""
    calls: list[str] = []
    real = matching.prepare_name

    def spy(name, kind=matching.COMPANY):
        calls.append(name)
        return real(name, kind)

    monkeypatch.setattr(matching, "prepare_name", spy)
    return calls


def test_a_miss_is_prepared_and_stored_then_read_back():
    found = prepared_names(["北京华为技术有限公司"], matching.COMPANY)
    assert found["北京华为技术有限公司"] == matching.prepare_name("北京华为技术有限公司")
    row = MatchName.objects.get(name="北京华为技术有限公司")
    assert (row.kind, row.version) == (matching.COMPANY, matching.PREPARATION_VERSION)
    assert (row.core, row.pinyin, row.trade) == ("华为技术", "huaweijishu", "华为")


def test_stored_names_are_read_not_prepared_again(prepared_calls):
    prepared_names(["明达贸易有限公司", "华为技术有限公司"], matching.COMPANY)
    prepared_calls.clear()
    found = prepared_names(["明达贸易有限公司", "华为技术有限公司"], matching.COMPANY)
    assert prepared_calls == []
    assert found["明达贸易有限公司"].core == "明达贸易"


def test_only_the_current_version_and_the_asked_kind_are_read():
    common = {"core": "x", "pinyin": "x", "trade": "x"}
    MatchName.objects.create(
        name="张先生", kind=matching.PERSON, version=matching.PREPARATION_VERSION - 1, **common
    )
    MatchName.objects.create(
        name="张先生", kind=matching.COMPANY, version=matching.PREPARATION_VERSION, **common
    )
    assert stored_prepared_names(["张先生"], matching.PERSON) == {}
    assert prepared_names(["张先生"], matching.PERSON)["张先生"].core == "张"


def test_a_name_too_long_to_store_is_still_prepared():
    name = "很长的公司名称" * 40
    assert prepared_names([name], matching.COMPANY)[name].core
    assert not MatchName.objects.exists()


def test_match_candidates_compares_with_the_prepared_name_it_is_given():
    stored = matching.PreparedName(name="甲", core="明达贸易", pinyin="mingdamaoyi", trade="明达")
    other = {"name": "甲", "phones": [], "emails": [], "prepared_names": {matching.COMPANY: stored}}
    [match] = matching.match_candidates({"name": "明达贸易有限公司"}, [other])
    assert match.score == 100.0
    # Prepared for another kind only: the name itself is prepared and does not match.
    other["prepared_names"] = {matching.PERSON: stored}
    assert matching.match_candidates({"name": "明达贸易有限公司"}, [other]) == []


def _pairs(scan):
    return {(pair.first_id, pair.second_id, pair.score) for pair in scan.pairs.all()}


def test_the_scan_stores_the_names_it_prepares_and_reads_them_next_time(org, prepared_calls):
    names = ["北京华为技术有限公司", "华为技术有限公司", "Acme Co., Ltd.", "ACME Ltd"]
    for name in names:
        services.account_create(actor=org.rep1, data={"name": name})
    first = DuplicateScan.objects.create(model_label="customers.account", created_by=org.admin)
    duplicate_scan_run(scan=first)
    assert set(MatchName.objects.values_list("name", flat=True)) >= set(names)
    prepared_calls.clear()
    second = DuplicateScan.objects.create(model_label="customers.account", created_by=org.admin)
    duplicate_scan_run(scan=second)
    assert not set(prepared_calls) & set(names)
    assert _pairs(second) == _pairs(first) and len(_pairs(first)) == 2


def test_an_import_batch_reads_its_candidates_prepared_names(org, prepared_calls):
    from guanxi.core.imports.resources import ImportRow, get_resource

    existing = services.account_create(actor=org.rep1, data={"name": "上海明达贸易有限公司"})
    prepared_names([existing.name], matching.COMPANY)
    prepared_calls.clear()
    resource = get_resource("customers.account")
    context = resource.context(user=org.rep1, mapping=["name"])
    row = ImportRow(line=2, values=["明达贸易"], data={"name": "明达贸易"}, context=context)
    resource.prefetch_duplicates([row], context)
    assert resource.duplicate_finder(row).pk == existing.pk
    assert existing.name not in prepared_calls
