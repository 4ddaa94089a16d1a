import datetime
from dataclasses import dataclass, field

from hypothesis import given
from hypothesis import strategies as st

from guanxi.core.pdf import Address
from guanxi.core.vcard import escape, fold, split_name, vcard_for, vcards


def unfold(card: str) -> list[str]:
    """Content lines of a card: CRLF + space continuations joined."""
    assert "\n" not in card.replace("\r\n", "")
    return card.replace("\r\n ", "").split("\r\n")[:-1]


def unescape(value: str) -> str:
    out, i = [], 0
    while i < len(value):
        if value[i] == "\\" and i + 1 < len(value):
            out.append("\n" if value[i + 1] in "nN" else value[i + 1])
            i += 2
        else:
            out.append(value[i])
            i += 1
    return "".join(out)


def properties(card: str) -> dict[str, list[str]]:
    result: dict[str, list[str]] = {}
    for line in unfold(card):
        name, _, value = line.partition(":")
        result.setdefault(name, []).append(value)
    return result


@dataclass
class Phone:
    number: str
    kind: str = ""


@dataclass
class Contact:
    name: str
    company: str = ""
    title: str = ""
    phones: list = field(default_factory=list)
    emails: list = field(default_factory=list)
    address: object = None
    note: str = ""


def zhang() -> Contact:
    return Contact(
        name="张伟",
        company="北京华为技术有限公司, 销售部",
        title="销售经理",
        phones=[Phone("138 1234 5678", "mobile"), Phone("010-12345678 转 8001", "work")],
        emails=["zhang.wei@example.com"],
        address=Address(
            lines=["中关村大街1号"],
            postcode="100080",
            province="北京市",
            city="北京市",
            district="海淀区",
            country="中国",
        ),
        note="第一次拜访; 需要报价\n下周回访",
    )


def test_vcard_for_a_chinese_contact():
    card = vcard_for(zhang())
    assert card.startswith("BEGIN:VCARD\r\nVERSION:3.0\r\n")
    assert card.endswith("END:VCARD\r\n")
    props = properties(card)
    assert props["N"] == ["张;伟;;;"]
    assert props["FN"] == ["张伟"]
    assert props["SORT-STRING"] == ["Zhang Wei"]
    assert props["X-PHONETIC-LAST-NAME"] == ["Zhang"]
    # The comma in the company name is escaped, so ORG stays one component.
    assert props["ORG"] == ["北京华为技术有限公司\\, 销售部"]
    assert unescape(props["ORG"][0]) == "北京华为技术有限公司, 销售部"
    assert props["TITLE"] == ["销售经理"]
    assert props["TEL;TYPE=CELL"] == ["+8613812345678"]
    assert props["TEL;TYPE=WORK"] == ["+861012345678,8001"]
    assert props["EMAIL;TYPE=INTERNET"] == ["zhang.wei@example.com"]
    assert props["ADR;TYPE=WORK"] == [";;海淀区中关村大街1号;北京市;北京市;100080;中国"]
    assert props["NOTE"] == ["第一次拜访\\; 需要报价\\n下周回访"]
    assert unescape(props["NOTE"][0]) == "第一次拜访; 需要报价\n下周回访"


def test_vcard_is_utf8_with_crlf_only():
    card = vcard_for(zhang())
    data = card.encode("utf-8")
    assert data.decode("utf-8") == card
    assert data.count(b"\n") == data.count(b"\r\n")


def test_escaping():
    assert escape("a,b;c\\d\ne\r\nf") == "a\\,b\\;c\\\\d\\ne\\nf"
    card = vcard_for({"name": "Li, Na", "company": "Acme; Inc. \\ Co", "title": "A,B"})
    props = properties(card)
    assert props["ORG"] == ["Acme\\; Inc. \\\\ Co"]
    assert props["TITLE"] == ["A\\,B"]
    assert props["N"] == ["Li;Na;;;"]


def test_long_lines_fold_at_75_octets_without_splitting_characters():
    note = "这是一段很长的备注，" * 20 + "end"
    card = vcard_for({"name": "王芳", "note": note})
    for physical in card.split("\r\n")[:-1]:
        assert len(physical.encode("utf-8")) <= 75
    assert any(line.startswith(" ") for line in card.split("\r\n"))
    assert properties(card)["NOTE"] == [escape(note)]


@given(st.text(min_size=1, max_size=400).filter(lambda s: "\r" not in s and "\n" not in s))
def test_fold_round_trips(line):
    folded = fold(line)
    physical = folded.split("\r\n")[:-1]
    assert all(len(part.encode("utf-8")) <= 75 for part in physical)
    assert all(part.startswith(" ") for part in physical[1:])
    assert folded.replace("\r\n ", "").removesuffix("\r\n") == line


def test_name_splitting():
    assert split_name("张伟") == ("张", "伟")
    assert split_name("欧阳娜娜") == ("欧阳", "娜娜")
    assert split_name("约翰·史密斯") == ("史密斯", "约翰")
    assert split_name("John Smith") == ("Smith", "John")
    assert split_name("Smith, John") == ("Smith", "John")
    assert split_name("Madonna") == ("", "Madonna")
    assert split_name("") == ("", "")


def test_surname_pinyin_uses_the_surname_reading():
    props = properties(vcard_for({"name": "单雄信"}))
    assert props["X-PHONETIC-LAST-NAME"] == ["Shan"]
    assert props["SORT-STRING"] == ["Shan Xiongxin"]


def test_explicit_name_parts_and_single_fields():
    card = vcard_for(
        {
            "family_name": "李",
            "given_name": "娜",
            "mobile": "13912345678",
            "phone": "021-62345678",
            "fax": "021-62345679",
            "email": "li.na@example.cn",
            "website": "https://example.cn",
            "birthday": datetime.date(1990, 5, 17),
        }
    )
    props = properties(card)
    assert props["N"] == ["李;娜;;;"]
    assert props["FN"] == ["李娜"]
    assert props["TEL;TYPE=CELL"] == ["+8613912345678"]
    assert props["TEL;TYPE=WORK"] == ["+862162345678"]  # guessed from the landline
    assert props["TEL;TYPE=WORK,FAX"] == ["+862162345679"]
    assert props["EMAIL;TYPE=INTERNET"] == ["li.na@example.cn"]
    assert props["URL"] == ["https://example.cn"]
    assert props["BDAY"] == ["1990-05-17"]


def test_phone_kinds_are_guessed_and_duplicates_dropped():
    card = vcard_for({"name": "王芳", "phones": ["13812345678", "+86 138 1234 5678", "12345"]})
    lines = [line for line in unfold(card) if line.startswith("TEL")]
    assert lines == ["TEL;TYPE=CELL:+8613812345678", "TEL;TYPE=VOICE:12345"]


def test_vcards_concatenates_cards():
    text = vcards([zhang(), {"name": "John Smith", "company": "Acme, Inc."}])
    assert text.count("BEGIN:VCARD\r\n") == 2
    assert text.count("END:VCARD\r\n") == 2
    assert "ORG:Acme\\, Inc.\r\n" in text
    assert vcards([]) == ""
