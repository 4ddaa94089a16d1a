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


def test_writing_an_account_keeps_its_prepared_name(org):
    account = services.account_create(actor=org.rep1, data={"name": "上海明达贸易有限公司"})
    assert MatchName.objects.get(name="上海明达贸易有限公司").core == "明达贸易"
    services.account_update(account=account, actor=org.rep1, data={"name": "杭州宏达科技有限公司"})
    assert MatchName.objects.get(name="杭州宏达科技有限公司").core == "宏达科技"
    person = services.account_create(actor=org.rep1, data={"name": "张先生", "kind": "individual"})
    assert MatchName.objects.get(name=person.name).kind == matching.PERSON


def test_an_import_keeps_the_prepared_names_of_the_accounts_it_creates(org):
    from guanxi.customers.models import Account

    services.account_bulk_create(
        actor=org.rep1, items=[({"name": "明达贸易有限公司"}, None), ({"name": "宏达科技"}, None)]
    )
    assert Account.objects.count() == 2
    assert set(MatchName.objects.values_list("name", "core")) == {
        ("明达贸易有限公司", "明达贸易"),
        ("宏达科技", "宏达科技"),
    }


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
    MatchName.objects.all().delete()  # as after an upgrade: accounts without stored names
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


NAMES = [
    "北京华为技术有限公司",
    "华为技术有限公司",
    "华为",
    "华威技术有限公司",
    "深圳华为终端有限公司",
    "上海明达贸易有限公司",
    "明达贸易",
    "明达",
    "Acme Co., Ltd.",
    "ACME Ltd",
    "Acme Trading Ltd",
    "Trading Acme",
    "北京银行",
    "有限公司",
    "",
    "张先生",
    "张伟",
    "章伟",
]


@pytest.mark.parametrize("kind", [matching.COMPANY, matching.PERSON])
@pytest.mark.parametrize("threshold", [85, 90, 100])
def test_a_name_block_finds_exactly_what_comparing_pair_by_pair_finds(kind, threshold):
    prepared = [matching.prepare_name(name, kind) for name in NAMES]
    block = matching.NameBlock(prepared)
    for query in prepared:
        expected = [
            (index, score)
            for index, other in enumerate(prepared)
            if (score := matching._similarity(query, other)) >= threshold
        ]
        assert block.similar(query, threshold) == expected, query.name
        for start in (1, 7, len(prepared)):
            after = [(index, score) for index, score in expected if index >= start]
            assert block.similar(query, threshold, start=start) == after, (query.name, start)


def test_the_scan_compares_only_the_close_pairs_of_a_block(org, monkeypatch):
    from guanxi.customers import duplicates

    compared = []
    real = duplicates._compare

    def spy(first, second, name_score):
        compared.append((first.pk, second.pk))
        return real(first, second, name_score)

    monkeypatch.setattr(duplicates, "_compare", spy)
    # One name block ("n:华为", "py:huaw") of 12 accounts, two of them alike.
    for word in ["农场", "餐厅", "书店", "医院", "学校", "酒店", "银行", "超市", "花园", "车行"]:
        services.account_create(actor=org.rep1, data={"name": f"华为{word}"})
    services.account_create(actor=org.rep1, data={"name": "华为技术有限公司"})
    services.account_create(actor=org.rep1, data={"name": "北京华为技术有限公司"})
    scan = DuplicateScan.objects.create(model_label="customers.account", created_by=org.admin)
    duplicate_scan_run(scan=scan)
    assert scan.pairs_found == 1
    # Pair by pair, each of the two blocks would compare 66 pairs.
    assert len(compared) <= 4


def test_the_scan_scores_each_pair_of_names_once(org, monkeypatch):
    """Each name is scored against the names after it in the block only (the scores are
    symmetric), and a pair found by its e-mail is not scored again for its name."""
    scored = []
    real = matching._similarity

    def spy(a, b):
        scored.append((a.name, b.name))
        return real(a, b)

    monkeypatch.setattr(matching, "_similarity", spy)
    services.account_create(actor=org.rep1, data={"name": "华为技术有限公司"})
    services.account_create(actor=org.rep1, data={"name": "北京华为技术有限公司"})
    for name in ["明达贸易", "宏远科技"]:  # far names, one e-mail
        services.account_create(actor=org.rep1, data={"name": name, "email": "info@x.cn"})
    scan = DuplicateScan.objects.create(model_label="customers.account", created_by=org.admin)
    duplicate_scan_run(scan=scan)
    assert scan.pairs_found == 2
    # The Huawei pair shares two name blocks ("n:华为", "py:huaw"): scored once in each.
    # Scoring each name against the whole block and every pair again to store it: 12.
    assert len(scored) == 2


def test_one_word_names_skip_the_token_sort_pass(monkeypatch):
    """Sorting a one-word name's words changes nothing: its token-sort score is the plain
    ratio the first pass has, so a block of one-word names runs two passes, not three."""
    passes = []
    real = matching.process.extract

    def spy(query, choices, **kwargs):
        passes.append(query)
        return real(query, choices, **kwargs)

    monkeypatch.setattr(matching.process, "extract", spy)
    chinese = [matching.prepare_name(name) for name in ["华为技术", "华威技术", "明达贸易"]]
    block = matching.NameBlock(chinese)
    assert [index for index, _score in block.similar(chinese[0], 85)] == [0, 1]
    assert len(passes) == 2  # the core and its pinyin
    passes.clear()
    mixed = matching.NameBlock([*chinese, matching.prepare_name("Trading Acme")])
    mixed.similar(chinese[0], 85)
    mixed.similar(matching.prepare_name("Acme Trading Ltd"), 85)
    assert len(passes) == 6  # one word against a block with a two-word name; two words
