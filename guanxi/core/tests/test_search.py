"""The global search: Chinese substrings, pinyin, initials, surnames, phones, e-mails; data
scope; soft delete; the API and the pages; bounded queries. Runs on SQLite and PostgreSQL."""

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import include, path

from guanxi import urls as project_urls
from guanxi.core.models import SearchEntry
from guanxi.core.search.backends import PostgreSQLBackend, SQLiteBackend
from guanxi.core.search.selectors import search
from guanxi.core.search.text import DocumentBuilder, query_terms
from guanxi.core.search.urls import api_urlpatterns
from guanxi.core.search.urls import urlpatterns as page_urlpatterns
from guanxi.core.services.organisation import user_create, user_update
from guanxi.core.services.records import record_create, record_delete, record_restore
from guanxi.customers.models import Account

pytestmark = [pytest.mark.django_db, pytest.mark.urls("guanxi.core.tests.test_search")]

# The project wires the search URLs itself; these tests mount them on their own.
urlpatterns = [
    path("api/v1/", include(api_urlpatterns)),
    path("", include(page_urlpatterns)),
    *project_urls.urlpatterns,
]


def titles(user, q, **kwargs):
    return [hit.title for hit in search(user=user, q=q, **kwargs)]


@pytest.fixture
def zhang_wei(org):
    return user_create(
        username="zhang.wei",
        password="pw",
        actor=None,
        display_name="张伟",
        department=org.east,
        email="zhang.wei@example.com",
    )


@pytest.fixture
def huawei(org):
    return record_create(
        model=Account,
        data={"name": "北京华为技术有限公司", "phone": "13812345678", "email": "info@huawei.com"},
        actor=org.rep1,
    )


# --- tokenizer ------------------------------------------------------------------------------


def test_document_has_bigrams_pinyin_initials_and_phone_forms():
    builder = DocumentBuilder()
    builder.add_text("北京华为技术有限公司")
    builder.add_phone("+86 138-1234-5678")
    tokens = builder.document().split()
    for token in ("北京", "京华", "华为", "为技", "华", "huawei", "hw", "beijing", "bjhwjs"):
        assert token in tokens
    assert "hwjs" in tokens  # initials of the core without 北京 and 有限公司
    assert "13812345678" in tokens and "8613812345678" in tokens


def test_surname_reading_for_personal_names():
    builder = DocumentBuilder()
    builder.add_person_name("单雄")
    builder.add_person_name("曾国藩")
    tokens = builder.document().split()
    assert "shanxiong" in tokens and "sx" in tokens
    assert "danxiong" not in tokens
    assert "zengguofan" in tokens


def test_query_terms():
    assert query_terms("华为技术") == ["华为", "为技", "技术"]
    assert query_terms("华") == ["华"]
    assert query_terms("Zhang Wei") == ["zhang", "wei"]
    assert query_terms("+86 138-1234-5678") == ["13812345678"]
    assert query_terms("１３８１２３４") == ["1381234"]
    assert query_terms("  ") == []


def test_user_input_cannot_inject_fulltext_syntax():
    assert SQLiteBackend.match_expression(['a"b']) == '"a""b"*'
    assert PostgreSQLBackend.tsquery(["it's", "a\\b"]) == "'it''s':* & 'a\\\\b':*"


# --- finding things -------------------------------------------------------------------------


@pytest.mark.parametrize("q", ["张伟", "zhangwei", "zw", "zhang", "zhang.wei", "ZHANG"])
def test_user_found_by_name_pinyin_initials_and_username(org, zhang_wei, q):
    assert "张伟" in titles(org.rep3, q)


def test_user_hit_describes_itself(org, zhang_wei):
    hit = next(h for h in search(user=org.rep1, q="张伟") if h.pk == zhang_wei.pk)
    assert hit.model == "core.user"
    assert hit.subtitle == "华东销售部 · zhang.wei@example.com"


@pytest.mark.parametrize(
    "q", ["华为", "北京华为", "huawei", "hw", "13812345678", "1381234", "138 1234 5678", "5678"]
)
def test_account_found_by_chinese_pinyin_initials_and_phone(org, huawei, q):
    assert titles(org.rep1, q) == ["北京华为技术有限公司"]


def test_single_chinese_character_is_a_prefix_match(org, huawei):
    # 华 starts 华为 (the account) and 华东销售部 (a department).
    assert set(titles(org.rep1, "华")) == {"北京华为技术有限公司", "华东销售部", "华北销售部"}


def test_account_found_by_email(org, huawei):
    assert titles(org.rep1, "info@huawei.com") == ["北京华为技术有限公司"]


def test_every_term_must_match(org, huawei):
    assert titles(org.rep1, "华为 腾讯") == []
    assert titles(org.rep1, "huawei 1381234") == ["北京华为技术有限公司"]


def test_surname_in_search(org):
    record_create(model=Account, data={"name": "单雄", "kind": "individual"}, actor=org.rep1)
    assert titles(org.rep1, "shanxiong") == ["单雄"]
    assert titles(org.rep1, "sx") == ["单雄"]


def test_departments_are_found(org):
    assert "华东销售部" in titles(org.rep1, "huadong")
    assert "华东销售部" in titles(org.rep1, "销售")


def test_exact_title_comes_first(org):
    for name in ("华为技术服务中心", "华为"):
        record_create(model=Account, data={"name": name}, actor=org.rep1)
    assert titles(org.rep1, "华为")[0] == "华为"


# --- scope ----------------------------------------------------------------------------------


def test_rep_never_finds_another_reps_account(org, huawei):
    assert titles(org.rep2, "华为") == []
    assert titles(org.rep3, "13812345678") == []
    assert titles(org.manager, "华为") == ["北京华为技术有限公司"]  # rep1's manager
    assert titles(org.admin, "hw") == ["北京华为技术有限公司"]


def test_scope_is_applied_before_the_limit(org):
    # Plenty of matches the rep may not see must not hide the one the rep may see.
    for i in range(30):
        record_create(model=Account, data={"name": f"华为代理{i}"}, actor=org.rep3)
    record_create(model=Account, data={"name": "华为代理 东区"}, actor=org.rep1)
    assert titles(org.rep1, "华为代理", limit=5) == ["华为代理 东区"]


def test_inactive_users_vanish(org, zhang_wei):
    user_update(user=zhang_wei, actor=None, is_active=False)
    assert "张伟" not in titles(org.admin, "张伟")
    assert not SearchEntry.objects.filter(object_id=zhang_wei.pk, title="张伟").exists()


def test_inactive_user_finds_nothing(org, huawei):
    org.rep1.is_active = False
    assert search(user=org.rep1, q="华为") == []


# --- index upkeep ---------------------------------------------------------------------------


def test_soft_deleted_records_vanish_and_return_on_restore(org, huawei):
    record_delete(instance=huawei, actor=org.rep1)
    assert titles(org.admin, "华为") == []
    record_restore(model=Account, pk=huawei.pk, actor=org.admin)
    assert titles(org.admin, "华为") == ["北京华为技术有限公司"]


def test_soft_deleted_record_is_hidden_even_if_its_entry_remains(org, huawei):
    Account.all_objects.filter(pk=huawei.pk).update(is_deleted=True)  # bypasses the services
    assert titles(org.admin, "华为") == []


def test_renaming_updates_the_index(org, huawei):
    from guanxi.core.services.records import record_update

    record_update(instance=huawei, data={"name": "深圳腾讯计算机系统有限公司"}, actor=org.rep1)
    assert titles(org.rep1, "华为") == []
    assert titles(org.rep1, "tengxun") == ["深圳腾讯计算机系统有限公司"]


def test_hard_delete_removes_the_entry(org, huawei):
    Account.all_objects.filter(pk=huawei.pk).delete()
    assert not SearchEntry.objects.filter(object_id=huawei.pk, title__contains="华为").exists()


def test_reindex_command_rebuilds_from_records(org, huawei):
    SearchEntry.objects.all().delete()
    assert titles(org.rep1, "华为") == []
    call_command("search_reindex", "--batch-size", "2", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert titles(org.rep1, "华为") == ["北京华为技术有限公司"]
    assert "张伟" not in titles(org.rep1, "zhang")  # not created: nothing invented
    assert "华东销售部" in titles(org.rep1, "hdxsb")


# --- API and pages --------------------------------------------------------------------------


def test_api_returns_json_results(client, org, huawei):
    client.force_login(org.rep1)
    response = client.get("/api/v1/search/", {"q": "hw"})
    assert response.status_code == 200
    [result] = response.json()["results"]
    assert result["type"] == "customers.account"
    assert result["id"] == huawei.pk
    assert result["title"] == "北京华为技术有限公司"
    assert result["subtitle"] == "Company"  # place and type; never the (maskable) phone
    assert set(result) >= {"type", "id", "title", "subtitle", "url"}


def test_api_rejects_empty_query(client, org):
    client.force_login(org.rep1)
    response = client.get("/api/v1/search/", {"q": "  "})
    assert response.status_code == 400
    body = response.json()
    assert body["detail"] and body["errors"]["q"]


def test_api_obeys_scope_and_needs_login(client, org, huawei):
    assert client.get("/api/v1/search/", {"q": "hw"}).status_code in (401, 403)
    client.force_login(org.rep2)
    assert client.get("/api/v1/search/", {"q": "hw"}).json()["results"] == []


def test_search_page_and_dropdown(client, org, huawei):
    anonymous = client.get("/search/", {"q": "hw"})
    assert anonymous.status_code == 302 and "login" in anonymous["Location"]
    client.force_login(org.rep1)
    page = client.get("/search/", {"q": "hw"})
    assert page.status_code == 200
    assert "core/search/results.html" in [t.name for t in page.templates]
    assert "北京华为技术有限公司" in page.content.decode()
    dropdown = client.get("/search/", {"q": "hw"}, HTTP_HX_REQUEST="true")
    assert [t.name for t in dropdown.templates][0] == "core/search/_dropdown.html"
    assert "北京华为技术有限公司" in dropdown.content.decode()
    assert "<html" not in dropdown.content.decode()


# --- cost -----------------------------------------------------------------------------------


def test_query_count_does_not_grow_with_hits(org, django_assert_max_num_queries):
    from guanxi.core.models import User

    record_create(model=Account, data={"name": "腾讯"}, actor=org.rep1)
    for i in range(60):
        record_create(model=Account, data={"name": f"华为分销商{i}"}, actor=org.rep1)

    def fresh():
        return User.objects.get(pk=org.rep1.pk)  # nothing cached, as in a new request

    search(user=fresh(), q="预热")  # fill the per-process content-type cache first
    user = fresh()
    with CaptureQueriesContext(connection) as queries:
        assert len(search(user=user, q="腾讯", limit=50)) == 1
    few = len(queries)
    # roles, subordinates, an own-scope user's granted ids, then the search statement
    assert few <= 6
    user = fresh()
    with django_assert_max_num_queries(few):
        assert len(search(user=user, q="华为", limit=50)) == 50


def test_search_reads_a_bounded_candidate_set(org, huawei):
    with CaptureQueriesContext(connection) as queries:
        search(user=org.rep1, q="华为")
    main = [q["sql"] for q in queries if "core_searchentry" in q["sql"]]
    assert main and all("LIMIT" in sql for sql in main)
