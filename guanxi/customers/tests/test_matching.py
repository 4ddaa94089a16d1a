from dataclasses import dataclass, field
from itertools import combinations

import pytest

from guanxi.customers import regions
from guanxi.customers.matching import (
    PERSON,
    Match,
    blocking_keys,
    company_core_name,
    match_candidates,
    name_pinyin,
    name_similarity,
    person_core_name,
)


@dataclass
class Record:
    name: str
    phones: list = field(default_factory=list)
    emails: list = field(default_factory=list)
    pk: int | None = None


@pytest.mark.parametrize(
    ("name", "core"),
    [
        ("北京华为技术有限公司", "华为技术"),
        ("华为技术有限公司", "华为技术"),
        ("华为技术（北京）有限公司", "华为技术"),
        ("华为技术(北京市)有限公司", "华为技术"),
        ("华为技术有限公司深圳分公司", "华为技术"),
        ("上海明达贸易有限公司", "明达贸易"),
        ("上海市明达贸易有限责任公司", "明达贸易"),
        ("明达贸易", "明达贸易"),
        ("广东省深圳市华强电子有限公司", "华强电子"),
        ("广西壮族自治区南宁市桂花食品厂", "桂花食品"),
        ("北京市海淀区明达商行", "明达"),
        ("中国工商银行股份有限公司北京市分行", "中国工商银行"),
        ("中国平安保险（集团）股份有限公司", "中国平安保险"),
        ("腾讯控股", "腾讯"),
        ("明达设计工作室", "明达设计"),
        ("Acme Co., Ltd.", "acme"),
        ("ACME Ltd", "acme"),
        ("ＡＣＭＥ　ＬＴＤ．", "acme"),
        ("The Acme Corporation", "acme"),
        ("Acme (Shanghai) Co., Ltd.", "acme"),
        ("Shanghai Mingda Trading Co., Ltd.", "mingda trading"),
        ("Siemens AG", "siemens"),
        ("Bosch GmbH", "bosch"),
        ("Acme, Inc.", "acme"),
        ("Acme LLC", "acme"),
    ],
)
def test_company_core_name(name, core):
    assert company_core_name(name) == core


@pytest.mark.parametrize(
    ("name", "core"),
    [
        # Only a generic word would remain: the place is part of the name.
        ("北京银行", "北京银行"),
        ("上海银行股份有限公司", "上海银行"),
        ("北京市场", "北京市场"),
        # 北京市政 is 北京 + 市政, not 北京市 + 政.
        ("北京市政工程有限公司", "市政工程"),
        # Uncommon city names that are also words are stripped only with their unit.
        ("宁德时代新能源科技股份有限公司", "宁德时代新能源科技"),
        ("阿里巴巴（中国）网络技术有限公司", "阿里巴巴网络技术"),
        ("宁德市明达贸易有限公司", "明达贸易"),
        # Nothing but a legal form or a place: keep what there is.
        ("有限公司", "有限公司"),
        ("北京", "北京"),
        ("", ""),
    ],
)
def test_company_core_name_keeps_what_makes_the_name(name, core):
    assert company_core_name(name) == core


def test_name_pinyin():
    assert name_pinyin("华为技术") == "huaweijishu"
    assert name_pinyin("Acme 中国") == "acmezhongguo"
    assert name_pinyin("") == ""


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("北京华为技术有限公司", "华为技术有限公司"),
        ("华为技术有限公司", "华为技术（北京）有限公司"),
        ("北京华为技术有限公司", "华为技术（北京）有限公司"),
        ("上海明达贸易有限公司", "明达贸易"),
        ("Acme Co., Ltd.", "ACME Ltd"),
        ("华为", "华为技术有限公司"),  # short name
        ("华为技术有限公司", "华威技术有限公司"),  # same sound
        ("明达国际贸易有限公司", "明达国际贸易公司"),
        ("Shanghai Mingda Trading Co., Ltd.", "Mingda Trading Ltd"),
    ],
)
def test_likely_duplicates_are_similar(a, b):
    assert name_similarity(a, b) >= 85
    assert name_similarity(b, a) >= 85


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("华为技术有限公司", "华夏银行股份有限公司"),
        ("北京银行", "上海银行"),
        ("明达贸易有限公司", "明达科技有限公司"),
        ("中国银行", "中国建设银行"),
        ("Acme Ltd", "Apex Ltd"),
        ("华为技术有限公司", ""),
    ],
)
def test_different_companies_are_not_similar(a, b):
    assert name_similarity(a, b) < 85


def test_similarity_is_a_score_from_0_to_100():
    assert name_similarity("华为技术有限公司", "华为技术有限公司") == 100.0
    assert 0 <= name_similarity("华为", "Acme") < 50
    assert name_similarity("", "") == 0.0


def test_person_names():
    assert person_core_name("张先生") == "张"
    assert person_core_name("王 伟") == "王伟"
    assert person_core_name("约翰·史密斯") == "约翰史密斯"
    assert person_core_name("Mr. John  Smith") == "john smith"
    assert name_similarity("John Smith", "Smith, John", kind=PERSON) == 100.0
    assert name_similarity("张伟", "张 伟", kind=PERSON) == 100.0
    assert name_similarity("张伟", "李娜", kind=PERSON) < 85


def test_blocking_keys():
    keys = blocking_keys(
        "北京华为技术有限公司",
        phones=["+86 138-1234-5678", "123"],
        emails=["Zhang.Wei@Example.com", "not-an-address"],
    )
    assert keys == {"n:华为", "py:huaw", "p:13812345678", "e:zhang.wei@example.com"}
    assert blocking_keys("Acme Co., Ltd.") == {"py:acme"}
    assert blocking_keys("") == set()


@pytest.mark.parametrize(
    "group",
    [
        ["北京华为技术有限公司", "华为技术有限公司", "华为技术（北京）有限公司", "华为"],
        ["上海明达贸易有限公司", "明达贸易"],
        ["Acme Co., Ltd.", "ACME Ltd", "The Acme Corporation"],
        ["华为技术有限公司", "华威技术有限公司"],
    ],
)
def test_names_that_match_share_a_blocking_key(group):
    for a, b in combinations(group, 2):
        assert name_similarity(a, b) >= 85
        assert blocking_keys(a) & blocking_keys(b), (a, b)


def test_blocking_keys_separate_unrelated_names():
    assert not blocking_keys("华为技术有限公司") & blocking_keys("华夏银行股份有限公司")
    assert not blocking_keys("北京银行") & blocking_keys("明达贸易")


def test_phones_and_emails_give_keys_in_any_spelling():
    assert blocking_keys("A", phones=["138 1234 5678"]) & blocking_keys(
        "B", phones=["+86 13812345678"]
    )
    assert blocking_keys("A", emails=["LI@Example.com"]) & blocking_keys(
        "B", emails=["li@example.COM"]
    )


def test_match_candidates_reasons_and_order():
    candidate = Record("北京华为技术有限公司", phones=["010-12345678"], emails=["info@huawei.com"])
    same_phone = Record("某某科技", phones=["+86 10 1234 5678"])
    same_email = Record("Some Name", emails=["INFO@huawei.com"])
    similar = Record("华为技术（北京）有限公司")
    everything = Record("华为技术有限公司", phones=["(010)12345678"], emails=["info@huawei.com"])
    unrelated = Record("华夏银行股份有限公司", phones=["13900000000"])

    matches = match_candidates(candidate, [unrelated, similar, same_phone, same_email, everything])

    assert all(isinstance(match, Match) for match in matches)
    assert [match.other for match in matches] == [everything, similar, same_phone, same_email]
    by_other = {id(match.other): match for match in matches}
    assert [r.code for r in by_other[id(everything)].reasons] == ["phone", "email", "name"]
    assert [r.code for r in by_other[id(same_phone)].reasons] == ["phone"]
    assert by_other[id(same_phone)].reasons[0].value == "01012345678"
    assert [r.code for r in by_other[id(same_email)].reasons] == ["email"]
    name_reason = by_other[id(similar)].reasons[0]
    assert (name_reason.code, name_reason.score) == ("name", 100.0)
    assert by_other[id(similar)].score == 100.0
    assert str(by_other[id(same_phone)].reasons[0]) == "Same phone number"
    assert str(by_other[id(same_email)].reasons[0]) == "Same e-mail address"
    assert str(name_reason) == "Similar name (100%)"


def test_match_candidates_threshold_and_self():
    candidate = Record("明达贸易", pk=1)
    itself = Record("明达贸易", pk=1)
    near = Record("明达国际贸易", pk=2)
    score = name_similarity("明达贸易", "明达国际贸易")
    assert 60 < score < 100

    assert match_candidates(candidate, [candidate, itself]) == []
    assert [m.other for m in match_candidates(candidate, [near], threshold=score)] == [near]
    assert match_candidates(candidate, [near], threshold=score + 0.1) == []


def test_match_candidates_reads_mappings_and_objects_with_number():
    @dataclass
    class Phone:
        number: str
        kind: str = "mobile"

    candidate = {"name": "张伟", "phones": [Phone("138 1234 5678")], "emails": "zw@example.com"}
    other = {"name": "李娜", "phones": ["13812345678"], "emails": []}
    matches = match_candidates(candidate, [other], kind=PERSON)
    assert [m.other for m in matches] == [other]
    assert [r.code for r in matches[0].reasons] == ["phone"]


def test_regions_cover_every_provincial_division():
    assert len(regions.PROVINCES) == 34
    assert regions.PROVINCES["广东省"][0] == "广州市"
    assert "深圳市" in regions.PROVINCES["广东省"]
    assert regions.short_name("广西壮族自治区") == "广西"
    assert regions.short_name("新疆维吾尔自治区") == "新疆"
    assert regions.short_name("延边朝鲜族自治州") == "延边"
    assert regions.short_name("克孜勒苏柯尔克孜自治州") == "克孜勒苏"
    assert regions.short_name("香港特别行政区") == "香港"
    assert regions.province_of("深圳") == "广东省"
    assert regions.province_of("杭州市") == "浙江省"
    assert regions.province_of("Atlantis") is None
    assert {"北京", "上海", "广东", "深圳"} <= set(regions.common_place_names())
    assert "阿里" not in regions.common_place_names()
