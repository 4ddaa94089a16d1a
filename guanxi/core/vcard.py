"""vCard 3.0 export (RFC 2426 / RFC 2425): one card per contact, UTF-8, CRLF line ends.

A contact-like is an object or a mapping; these attributes/keys are read when present:

- ``name`` (FN), ``family_name``/``last_name`` and ``given_name``/``first_name`` (N; when
  absent the name is split: a Chinese name after its surname, 欧阳 and other two-character
  surnames included; "John Smith" and "Smith, John" the Western way);
- ``company``/``organisation``/``account_name`` and ``department`` (ORG), ``title``/
  ``job_title`` (TITLE);
- ``phones`` (strings, ``(kind, number)`` pairs, mappings or objects with ``number`` and
  ``kind``), and single ``mobile``, ``phone``, ``work_phone``, ``home_phone``, ``fax``;
  kinds mobile/cell -> CELL, work/office/landline -> WORK, home -> HOME, fax -> FAX; a number
  without a kind is CELL if it is a mobile number, WORK otherwise;
- ``emails`` or ``email``; ``address``/``addresses`` (a string, a mapping, or an object like
  :class:`guanxi.core.pdf.Address`); ``note``/``notes``; ``website``/``url``; ``birthday``.

Chinese names also get SORT-STRING and Apple's X-PHONETIC-* in pinyin so phones sort them.
Values are escaped (``\\``, ``,``, ``;``, newlines) and lines longer than 75 octets are
folded without splitting a UTF-8 character.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError

from guanxi.core.phones import phone_normalise

CRLF = "\r\n"
_TEL_UNSAFE_RE = re.compile(r"[;\\\r\n]")
MAX_LINE_OCTETS = 75

_CJK_RE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_COMPOUND_SURNAMES = (
    "欧阳", "司马", "诸葛", "上官", "东方", "慕容", "令狐", "皇甫", "尉迟", "公孙", "夏侯",
    "长孙", "宇文", "司徒", "司空", "端木", "独孤", "南宫", "西门", "轩辕", "呼延", "闻人",
    "百里", "钟离", "万俟", "单于", "澹台", "濮阳", "淳于", "申屠", "公冶", "拓跋",
)  # fmt: skip
# Surname readings that differ from the everyday one.
_SURNAME_READINGS = {
    "单": "shan", "曾": "zeng", "解": "xie", "仇": "qiu", "朴": "piao", "区": "ou",
    "查": "zha", "覃": "qin", "盖": "ge", "缪": "miao", "翟": "zhai", "乐": "yue",
    "尉迟": "yuchi", "长孙": "zhangsun", "万俟": "moqi", "单于": "chanyu", "重": "chong",
    "秘": "bi", "种": "chong", "繁": "po", "沈": "shen", "贾": "jia", "柏": "bai",
}  # fmt: skip
_TEL_TYPES = {
    "mobile": "CELL",
    "cell": "CELL",
    "cellphone": "CELL",
    "work": "WORK",
    "office": "WORK",
    "landline": "WORK",
    "business": "WORK",
    "home": "HOME",
    "fax": "WORK,FAX",
    "work_fax": "WORK,FAX",
    "home_fax": "HOME,FAX",
    "other": "VOICE",
}
_SINGLE_PHONE_FIELDS = (
    ("mobile", "mobile"),
    ("phone", None),
    ("work_phone", "work"),
    ("home_phone", "home"),
    ("fax", "fax"),
)


def escape(value: Any) -> str:
    """Escape a text value: backslash, comma, semicolon, newlines (RFC 2426 §4)."""
    text = str(value or "")
    text = text.replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;")
    return text.replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")


def fold(line: str) -> str:
    """Fold a content line into lines of at most 75 octets (continuations start with a
    space), never inside a UTF-8 sequence; answer it with CRLF line ends."""
    parts: list[str] = []
    current: list[str] = []
    used = 0
    limit = MAX_LINE_OCTETS
    for char in line:
        size = len(char.encode("utf-8"))
        if used + size > limit:
            parts.append("".join(current))
            current, used, limit = [], 0, MAX_LINE_OCTETS - 1
        current.append(char)
        used += size
    parts.append("".join(current))
    return (CRLF + " ").join(parts) + CRLF


def _get(record: Any, *names: str) -> Any:
    for name in names:
        value = record.get(name) if isinstance(record, Mapping) else getattr(record, name, None)
        if callable(value) and not hasattr(value, "all"):
            value = value()
        if value not in (None, "", [], ()):
            return value
    return None


def _items(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, str | Mapping):
        return [value]
    all_method = getattr(value, "all", None)
    if callable(all_method):
        return list(all_method())
    try:
        return list(value)
    except TypeError:
        return [value]


def split_name(name: str) -> tuple[str, str]:
    """(family, given): 张伟 -> (张, 伟), 欧阳娜娜 -> (欧阳, 娜娜), John Smith -> (Smith,
    John), "Smith, John" -> (Smith, John)."""
    name = " ".join(str(name or "").split())
    if not name:
        return "", ""
    if _CJK_RE.match(name):
        compact = name.replace(" ", "").replace("·", "")
        if "·" in name or len(compact) > 4:  # 约翰·史密斯 and long names: family name last
            parts = re.split(r"[·\s]+", name)
            return (parts[-1], " ".join(parts[:-1])) if len(parts) > 1 else ("", name)
        for surname in _COMPOUND_SURNAMES:
            if compact.startswith(surname) and len(compact) > len(surname):
                return surname, compact[len(surname) :]
        return compact[:1], compact[1:]
    if "," in name:
        family, given = name.split(",", 1)
        return family.strip(), given.strip()
    parts = name.split(" ")
    if len(parts) == 1:
        return "", name
    return parts[-1], " ".join(parts[:-1])


def _pinyin(text: str, surname: bool = False) -> str:
    from pypinyin import lazy_pinyin

    if surname and text in _SURNAME_READINGS:
        return _SURNAME_READINGS[text].capitalize()
    if surname and text[:1] in _SURNAME_READINGS:
        return (_SURNAME_READINGS[text[:1]] + "".join(lazy_pinyin(text[1:]))).capitalize()
    return "".join(lazy_pinyin(text)).capitalize()


def _phone_lines(contact: Any) -> list[str]:
    entries: list[tuple[str | None, str]] = []
    for item in _items(_get(contact, "phones")):
        if isinstance(item, str):
            entries.append((None, item))
        elif isinstance(item, tuple) and len(item) == 2:
            entries.append((item[0], item[1]))
        else:
            number = _get(item, "number", "value", "phone")
            if number:
                entries.append((_get(item, "kind", "type", "label"), str(number)))
    for field, kind in _SINGLE_PHONE_FIELDS:
        value = _get(contact, field)
        if isinstance(value, str) and value.strip():
            entries.append((kind, value))
    lines: list[str] = []
    seen: set[str] = set()
    for kind, raw in entries:
        try:
            phone = phone_normalise(raw)
        except ValidationError:
            number, guess = str(raw).strip(), None
        else:
            number = phone.e164 + (f",{phone.extension}" if phone.extension else "")
            guess = phone.kind_guess
        if not number or number in seen:
            continue
        seen.add(number)
        tel_type = _TEL_TYPES.get(str(kind or "").lower())
        if tel_type is None:
            tel_type = "CELL" if guess == "mobile" else "WORK" if guess else "VOICE"
        # TEL holds a phone number, not text: the comma before an extension (a dialling
        # pause) is not escaped; other separators are removed.
        lines.append(f"TEL;TYPE={tel_type}:{_TEL_UNSAFE_RE.sub('', number)}")
    return lines


def _address_line(address: Any) -> str | None:
    if isinstance(address, str):
        street, city, region, postcode, country = address, "", "", "", ""
    else:
        lines = _get(address, "lines", "street_lines") or []
        if isinstance(lines, str):
            lines = [lines]
        street_parts = [str(_get(address, "district") or ""), *(str(x) for x in lines)]
        street = "".join(part.strip() for part in street_parts if part and part.strip())
        street = street or str(_get(address, "street", "address") or "")
        city = str(_get(address, "city") or "")
        region = str(_get(address, "province", "region", "state") or "")
        postcode = str(_get(address, "postcode", "postal_code", "zip") or "")
        country = str(_get(address, "country") or "")
    components = ["", "", street, city, region, postcode, country]
    if not any(part.strip() for part in components):
        return None
    return "ADR;TYPE=WORK:" + ";".join(escape(part.strip()) for part in components)


def vcard_for(contact: Any) -> str:
    """One vCard 3.0 (BEGIN:VCARD ... END:VCARD, CRLF) for a contact-like (module doc)."""
    family = str(_get(contact, "family_name", "last_name") or "").strip()
    given = str(_get(contact, "given_name", "first_name") or "").strip()
    name = str(_get(contact, "name", "full_name") or "").strip()
    if not name:
        is_cjk = bool(_CJK_RE.search(family + given))
        name = (family + given) if is_cjk else " ".join(p for p in (given, family) if p)
    if not family and not given:
        family, given = split_name(name)
    company = str(_get(contact, "company", "organisation", "account_name") or "").strip()
    department = str(_get(contact, "department") or "").strip()

    lines = ["BEGIN:VCARD", "VERSION:3.0"]
    lines.append(f"N:{escape(family)};{escape(given)};;;")
    lines.append(f"FN:{escape(name or company)}")
    if _CJK_RE.search(family + given):
        last_pinyin = _pinyin(family, surname=True) if family else ""
        first_pinyin = _pinyin(given) if given else ""
        lines.append(f"SORT-STRING:{escape(' '.join(p for p in (last_pinyin, first_pinyin) if p))}")
        if last_pinyin:
            lines.append(f"X-PHONETIC-LAST-NAME:{escape(last_pinyin)}")
        if first_pinyin:
            lines.append(f"X-PHONETIC-FIRST-NAME:{escape(first_pinyin)}")
    if company or department:
        org = escape(company) + (f";{escape(department)}" if department else "")
        lines.append(f"ORG:{org}")
    title = _get(contact, "title", "job_title")
    if title:
        lines.append(f"TITLE:{escape(title)}")
    lines.extend(_phone_lines(contact))
    emails = _items(_get(contact, "emails")) + _items(_get(contact, "email"))
    seen_emails: set[str] = set()
    for email in emails:
        if not isinstance(email, str):
            email = _get(email, "email", "address", "value") or ""
        address = str(email).strip()
        if address and address.lower() not in seen_emails:
            seen_emails.add(address.lower())
            lines.append(f"EMAIL;TYPE=INTERNET:{escape(address)}")
    for address in _items(_get(contact, "addresses")) + _items(_get(contact, "address")):
        line = _address_line(address)
        if line:
            lines.append(line)
    website = _get(contact, "website", "url")
    if website:
        lines.append(f"URL:{escape(website)}")
    birthday = _get(contact, "birthday")
    if isinstance(birthday, datetime.date):
        lines.append(f"BDAY:{birthday.isoformat()}")
    note = _get(contact, "note", "notes")
    if note:
        lines.append(f"NOTE:{escape(note)}")
    lines.append("END:VCARD")
    return "".join(fold(line) for line in lines)


def vcards(contacts: Iterable[Any]) -> str:
    """The vCards of all contacts, one after another (a .vcf file)."""
    return "".join(vcard_for(contact) for contact in contacts)
