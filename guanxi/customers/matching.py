"""Duplicate detection for accounts, contacts and leads: name normalisation, blocking keys,
similarity and candidate matching. Pure functions; no database access.

Company names are reduced to their *core* (:func:`company_core_name`) before comparing:
half-width, lower-case, punctuation and spaces removed, place names in brackets removed
(华为技术（北京）有限公司), legal forms removed at the end (有限公司, 股份有限公司, Co., Ltd.,
GmbH ...), branch markers with their place removed (…有限公司深圳分公司), and place names
removed at the start (北京, 北京市, 广东省深圳市, Shanghai ...) as long as something
distinctive remains (北京银行 stays 北京银行: 银行 alone is a generic word). So

    北京华为技术有限公司, 华为技术有限公司, 华为技术（北京）有限公司  -> 华为技术
    上海明达贸易有限公司, 明达贸易                                  -> 明达贸易
    Acme Co., Ltd., ACME Ltd                                       -> acme

Similarity (:func:`name_similarity`, 0..100) is the best of rapidfuzz's ``ratio`` and
``token_sort_ratio`` on the cores and ``ratio`` on their toneless pinyin (so 华为 and 华威
match), and 90 when one core is the other's trade name without its industry word
(华为 vs 华为技术).

Blocking (:func:`blocking_keys`): comparing every record with every other is quadratic, so
each record gets a few keys and only records sharing a key are compared:

- ``p:<digits>`` per phone (:func:`guanxi.core.phones.phone_digits`),
- ``e:<address>`` per e-mail (lower-case),
- ``n:<first two characters of the core>`` for names starting with Chinese characters,
- ``py:<first four letters of the core's pinyin>`` for every name.

Trade-off: a duplicate is found only if the two records share a phone, an e-mail, the first
two characters of the core name or the first four pinyin letters of it. Names that differ at
the very start in a way pinyin does not hide (a different first character that does not sound
the same; a different first English word) are missed; in exchange a scan of a million records
compares each record with its block only. Name blocks are uneven (many cores start with 中国
or "zhon"); a scanner should sort each block and compare within a window, or skip blocks
larger than a few thousand records and rely on the phone and e-mail keys for those.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from django.utils.translation import gettext
from rapidfuzz import fuzz, process

from guanxi.core.phones import email_key, phone_digits
from guanxi.customers.regions import (
    PLACE_UNITS,
    common_place_names,
    official_place_names,
    short_place_names,
)

COMPANY = "company"
PERSON = "person"
DEFAULT_THRESHOLD = 85
SHORT_NAME_SCORE = 90.0
MIN_PHONE_KEY_DIGITS = 7

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_CJK_RE = re.compile(f"[{_CJK}]")
_BRACKETED_RE = re.compile(r"[(\[【〔{<《]([^()\[\]【】〔〕{}<>《》]*)[)\]】〕}>》]")
_DROPPED_RE = re.compile(r"['’‘`.]")
_PUNCTUATION_RE = re.compile(rf"[^\w{_CJK}]+|_+")
_SPACE_NEAR_CJK_RE = re.compile(rf"\s+(?=[{_CJK}])|(?<=[{_CJK}])\s+")
_ASCII_ALNUM_RE = re.compile(r"[a-z0-9]+")
_DISTRICT_RE = re.compile(rf"[{_CJK}]{{2,3}}?(?:新区|区|县)")

# --- word lists ------------------------------------------------------------------------------
LEGAL_SUFFIXES = tuple(
    sorted(
        {
            "集团股份有限公司", "集团控股有限公司", "控股集团有限公司", "股份有限公司",
            "有限责任公司", "集团有限公司", "控股有限公司", "个人独资企业", "合伙企业",
            "个体工商户", "有限公司", "集团公司", "总公司", "子公司", "分公司", "公司",
            "集团", "控股", "股份", "商行", "商店", "工作室", "事务所", "经营部", "门市部",
            "厂",
        },
        key=len,
        reverse=True,
    )
)  # fmt: skip
BRANCH_MARKERS = tuple(
    sorted(
        {"分公司", "分店", "办事处", "代表处", "分部", "分厂", "营业部", "分行", "支行", "分所"},
        key=len,
        reverse=True,
    )
)
# Words inside brackets that say nothing about which company it is.
BRACKET_WORDS = frozenset(
    {"中国", "中华", "集团", "控股", "有限合伙", "普通合伙", "特殊普通合伙", "筹", "筹备",
     "个体工商户", "china", "prc", "group", "holdings"}
)  # fmt: skip
# Industry and generic words: a core made only of these is not distinctive (银行, 科技), and a
# core without them is its trade name (华为技术 -> 华为).
INDUSTRY_WORDS = tuple(
    sorted(
        {
            "科技", "技术", "网络", "信息", "软件", "电子", "贸易", "商贸", "实业", "发展",
            "投资", "咨询", "服务", "管理", "文化", "传媒", "工程", "建设", "物流", "国际",
            "医药", "生物", "电器", "机械", "设备", "环保", "能源", "新能源", "通信", "智能",
            "数据", "银行", "保险", "证券", "基金", "信托", "期货", "大学", "学院", "学校",
            "医院", "诊所", "酒店", "餐饮", "食品", "农业", "汽车", "房地产", "置业", "地产",
            "建筑", "装饰", "广告", "教育", "培训", "旅游", "旅行社", "运输", "化工", "材料",
            "纺织", "服装", "家具", "印刷", "包装", "制造", "制药", "药业", "光电", "电力",
            "供应链", "人力资源", "劳务", "安装", "销售", "商务", "电子商务", "进出口",
            "中心", "研究院", "研究所", "设计", "开发", "产业", "企业", "控股", "集团",
            "股份", "公司", "市场",
        },
        key=len,
        reverse=True,
    )
)  # fmt: skip
ENGLISH_LEGAL_WORDS = frozenset(
    {"co", "company", "corp", "corporation", "inc", "incorporated", "llc", "llp", "lp", "ltd",
     "limited", "plc", "gmbh", "ag", "kg", "sa", "sas", "sarl", "srl", "spa", "bv", "nv",
     "pte", "pty", "kk", "group", "holding", "holdings", "branch"}
)  # fmt: skip
ENGLISH_INDUSTRY_WORDS = frozenset(
    {"technology", "technologies", "tech", "trading", "trade", "international", "industries",
     "industrial", "industry", "services", "service", "solutions", "consulting", "software",
     "systems", "electronics", "electronic", "network", "networks", "media", "bank",
     "logistics", "investment", "investments", "development", "engineering", "global",
     "enterprises", "enterprise", "import", "export", "manufacturing", "science", "sciences",
     "information", "digital", "management", "partners", "china"}
)  # fmt: skip
ENGLISH_PLACE_EXTRAS = frozenset(
    {"china", "prc", "hongkong", "hk", "macau", "macao", "taiwan", "peking", "canton",
     "chongqing", "innermongolia", "tibet", "xinjiang"}
)  # fmt: skip
# Honorifics and job titles written with a person's name (张先生, 王总, Mr Smith).
PERSON_SUFFIXES = tuple(
    sorted(
        {"先生", "女士", "小姐", "太太", "夫人", "老师", "总经理", "副总", "经理", "董事长",
         "总监", "主任", "主管", "总", "工", "博士", "教授", "医生", "律师", "老板", "同学"},
        key=len,
        reverse=True,
    )
)  # fmt: skip
PERSON_PREFIXES = frozenset({"mr", "mrs", "ms", "miss", "dr", "prof", "sir", "madam"})
# "市" followed by one of these starts a word (市场, 市政), not a unit (北京市).
_NOT_AFTER_UNIT = frozenset("场政民容长委级值面井")


# --- helpers ---------------------------------------------------------------------------------
def has_cjk(text: str) -> bool:
    return _CJK_RE.search(text) is not None


def _basic(text: object) -> str:
    """Half-width (NFKC), case-folded, stripped."""
    return unicodedata.normalize("NFKC", str(text or "")).casefold().strip()


def _clean(text: str) -> str:
    """Punctuation to spaces, no spaces next to Chinese characters, single spaces."""
    text = _DROPPED_RE.sub("", text)
    text = _PUNCTUATION_RE.sub(" ", text)
    text = " ".join(text.split())
    return _SPACE_NEAR_CJK_RE.sub("", text)


@cache
def _english_places() -> frozenset[str]:
    from pypinyin import lazy_pinyin

    names = {"".join(lazy_pinyin(name)) for name in common_place_names()}
    return frozenset(names | ENGLISH_PLACE_EXTRAS)


def _is_place(text: str) -> bool:
    """A place name on its own: 北京, 北京市, 广东省深圳市, (shanghai)."""
    if not text:
        return False
    if not has_cjk(text):
        return text.replace(" ", "") in _english_places()
    rest = text
    while rest:
        length = _place_prefix_length(rest)
        if not length:
            return False
        rest = rest[length:]
    return True


def _ends_a_place(text: str, length: int) -> bool:
    """text[:length] is a place only if it does not cut a word: 北京市政 is 北京 + 市政."""
    return not (text[length - 1] == "市" and text[length : length + 1] in _NOT_AFTER_UNIT)


@cache
def _by_first_character(kind: str) -> dict[str, tuple[str, ...]]:
    """Place names of one kind grouped by their first character, longest first."""
    source = {
        "official": official_place_names,
        "short": short_place_names,
        "common": common_place_names,
    }[kind]()
    index: dict[str, list[str]] = {}
    for name in source:  # already longest first
        index.setdefault(name[0], []).append(name)
    return {first: tuple(names) for first, names in index.items()}


def _place_prefix_length(text: str) -> int:
    """Length of the place name at the start of text (with its unit), or 0."""
    if not text:
        return 0
    first = text[0]
    for name in _by_first_character("official").get(first, ()):
        if text.startswith(name) and _ends_a_place(text, len(name)):
            return len(name)
    for name in _by_first_character("short").get(first, ()):
        if text.startswith(name):
            rest = text[len(name) :]
            for unit in PLACE_UNITS:
                length = len(name) + len(unit)
                if rest.startswith(unit) and _ends_a_place(text, length):
                    return length
    for name in _by_first_character("common").get(first, ()):
        if text.startswith(name):
            return len(name)
    return 0


def _place_suffix_length(text: str) -> int:
    """Length of a place name at the end of text (with or without its unit), or 0."""
    for start in range(max(0, len(text) - 12), len(text)):
        tail = text[start:]
        if _is_place(tail):
            return len(tail)
    return 0


def _trade_name(core: str) -> str:
    """The core without its industry words: 华为技术 -> 华为, 银行 -> "", acme trading -> acme."""
    if not has_cjk(core):
        words = core.split()
        while words and words[-1] in ENGLISH_INDUSTRY_WORDS | ENGLISH_LEGAL_WORDS:
            words.pop()
        return " ".join(words)
    text = core
    changed = True
    while changed and text:
        changed = False
        for word in INDUSTRY_WORDS:
            if text.endswith(word):
                text = text[: -len(word)]
                changed = True
                break
    return text


def _distinctive(text: str) -> bool:
    """Something is left that names a company, not only a place, legal form or industry."""
    if not text:
        return False
    trade = _trade_name(text)
    if has_cjk(text):
        return len(trade) >= 1 and len(text) >= 2 and not _is_place(trade)
    return bool(trade) and trade.replace(" ", "") not in _english_places()


def _drop_brackets(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        content = _clean(match.group(1))
        if not content or content in BRACKET_WORDS or _is_place(content):
            return " "
        return f" {content} "

    previous = None
    while previous != text:
        previous, text = text, _BRACKETED_RE.sub(replace, text)
    return text


def _strip_legal_suffix(text: str) -> str:
    if text in LEGAL_SUFFIXES:
        return text
    if has_cjk(text):
        for suffix in LEGAL_SUFFIXES:
            if text.endswith(suffix) and len(text) - len(suffix) >= 2:
                return text[: -len(suffix)]
        return text
    words = text.split()
    if len(words) > 1 and words[-1] in ENGLISH_LEGAL_WORDS:
        return " ".join(words[:-1])
    return text


def _strip_branch(text: str) -> str:
    """华为技术有限公司深圳分公司 -> 华为技术有限公司, 中国银行北京市分行 -> 中国银行."""
    for marker in BRANCH_MARKERS:
        if text.endswith(marker) and len(text) - len(marker) >= 2:
            rest = text[: -len(marker)]
            place = _place_suffix_length(rest)
            if place and _distinctive(rest[:-place]):
                return rest[:-place]
            return rest
    return text


def _strip_place_after_legal(text: str) -> str:
    """华为技术有限公司北京 -> 华为技术有限公司 (a place written after the legal form)."""
    place = _place_suffix_length(text)
    if place:
        rest = text[:-place]
        if any(rest.endswith(suffix) for suffix in LEGAL_SUFFIXES) and _distinctive(rest):
            return rest
    return text


def _strip_place_prefix(text: str) -> str:
    if has_cjk(text[:1]):
        length = _place_prefix_length(text)
        if not length or not _distinctive(text[length:]):
            return text
        text = text[length:]
        # A district right after its city: 北京市海淀区明达商行 -> 明达商行.
        district = _DISTRICT_RE.match(text)
        if district and _distinctive(text[district.end() :]):
            text = text[district.end() :]
        return text
    words = text.split()
    for count in (2, 1):
        if len(words) > count and "".join(words[:count]) in _english_places():
            rest = " ".join(words[count:])
            if _distinctive(rest):
                return rest
    if len(words) > 1 and words[0] == "the":
        return " ".join(words[1:])
    return text


# --- names -----------------------------------------------------------------------------------
@lru_cache(maxsize=8192)
def company_core_name(name: str) -> str:
    """The distinctive part of a company name, for comparing (see the module docstring)."""
    text = _clean(_drop_brackets(_basic(name)))
    if not text:
        return ""
    previous = None
    while previous != text:
        previous = text
        text = _strip_branch(text)
        text = _strip_legal_suffix(text)
        text = _strip_place_after_legal(text)
        text = _strip_place_prefix(text)
    return text


@lru_cache(maxsize=8192)
def person_core_name(name: str) -> str:
    """A person's name for comparing: half-width, lower-case, no spaces or dots between
    Chinese characters (约翰·史密斯), honorifics removed (张先生 -> 张, Mr. John Smith ->
    john smith)."""
    text = _clean(_drop_brackets(_basic(name)))
    if has_cjk(text):
        for suffix in PERSON_SUFFIXES:
            if text.endswith(suffix) and len(text) > len(suffix):
                text = text[: -len(suffix)]
                break
        return text
    words = text.split()
    while len(words) > 1 and words[0] in PERSON_PREFIXES:
        words.pop(0)
    return " ".join(words)


def core_name(name: str, kind: str = COMPANY) -> str:
    return person_core_name(name) if kind == PERSON else company_core_name(name)


@lru_cache(maxsize=8192)
def name_pinyin(name: str) -> str:
    """Toneless pinyin of the name, syllables joined, lower-case letters and digits only:
    华为技术 -> huaweijishu; other letters pass through (Acme 中国 -> acmezhongguo)."""
    from pypinyin import lazy_pinyin

    text = unicodedata.normalize("NFKC", str(name or "")).casefold()
    return "".join(_ASCII_ALNUM_RE.findall("".join(lazy_pinyin(text))))


# Bump whenever prepare_name's answer changes: the prepared names stored in the database
# (customers.MatchName) are read for the current version only.
PREPARATION_VERSION = 1


@dataclass(frozen=True)
class PreparedName:
    """A name with everything the comparison needs, computed once."""

    name: str
    core: str
    pinyin: str
    trade: str


@lru_cache(maxsize=8192)
def prepare_name(name: str, kind: str = COMPANY) -> PreparedName:
    core = core_name(name or "", kind)
    trade = _trade_name(core) if kind == COMPANY else core
    return PreparedName(name=name or "", core=core, pinyin=name_pinyin(core), trade=trade)


def _similarity(a: PreparedName, b: PreparedName) -> float:
    if not a.core or not b.core:
        return 0.0
    if a.core == b.core:
        return 100.0
    scores = [fuzz.ratio(a.core, b.core), fuzz.token_sort_ratio(a.core, b.core)]
    if a.pinyin and b.pinyin:
        scores.append(fuzz.ratio(a.pinyin, b.pinyin))
    # One is the other's trade name: 华为 vs 华为技术, acme vs acme trading.
    if (a.core == b.trade and len(b.trade) >= 2) or (b.core == a.trade and len(a.trade) >= 2):
        scores.append(SHORT_NAME_SCORE)
    return round(max(scores), 1)


def _sorted_tokens(text: str) -> str:
    """What `fuzz.token_sort_ratio` compares: the words sorted, joined by a space."""
    return " ".join(sorted(text.split()))


class NameBlock:
    """Prepared names compared with one name at a time, many at once.

    rapidfuzz's `process.extract` runs each of the three scorers over the whole block in C
    with the threshold as cut-off; only the names it finds close (and trade-name pairs) are
    scored again by `_similarity`, so the answer is exactly the pairwise one. A block of
    2,000 names costs milliseconds instead of a Python call per pair. The token-sort
    scorer runs as a plain ratio of the names' words sorted once here: rapidfuzz would
    sort every name's words again for each name compared.
    """

    def __init__(self, names: Sequence[PreparedName]):
        self.names = list(names)
        # None is skipped by process.extract: an empty core or pinyin never scores.
        self.cores = [name.core or None for name in self.names]
        self.sorted_cores = [_sorted_tokens(core) if core else None for core in self.cores]
        # Where sorting changes nothing (a single word: most Chinese names) the token-sort
        # score is the plain ratio, which the first pass already has. None: no name of
        # the block changes, so a one-word name skips that pass.
        resorted = [
            sorted_core if sorted_core != core else None
            for core, sorted_core in zip(self.cores, self.sorted_cores, strict=True)
        ]
        self.resorted_cores = resorted if any(resorted) else None
        self.pinyins = [(name.pinyin if name.core else "") or None for name in self.names]
        self.by_core: dict[str, list[int]] = defaultdict(list)
        self.by_trade: dict[str, list[int]] = defaultdict(list)
        for index, name in enumerate(self.names):
            if name.core:
                self.by_core[name.core].append(index)
                if len(name.trade) >= 2:
                    self.by_trade[name.trade].append(index)

    def similar(
        self, prepared: PreparedName, threshold: float, start: int = 0
    ) -> list[tuple[int, float]]:
        """(index, score) of the block's names from `start` on at least `threshold`
        similar to `prepared`. The scores are symmetric, so a caller comparing each name
        of the block with the others passes the index after its own."""
        if not prepared.core:
            return []
        cutoff = max(threshold - 0.05, 0)  # _similarity rounds to one decimal
        close: set[int] = set()
        sorted_core = _sorted_tokens(prepared.core)
        for query, choices in (
            (prepared.core, self.cores),
            (
                sorted_core,
                self.sorted_cores if sorted_core != prepared.core else self.resorted_cores,
            ),
            (prepared.pinyin, self.pinyins),
        ):
            if query and choices is not None:
                found = process.extract(
                    query, choices[start:], scorer=fuzz.ratio, score_cutoff=cutoff, limit=None
                )
                close.update(start + index for _choice, _score, index in found)
        if threshold <= SHORT_NAME_SCORE:
            if len(prepared.trade) >= 2:
                close.update(self.by_core.get(prepared.trade, ()))
            close.update(self.by_trade.get(prepared.core, ()))
        scored = (
            (index, _similarity(prepared, self.names[index]))
            for index in sorted(close)
            if index >= start
        )
        return [(index, score) for index, score in scored if score >= threshold]


def name_similarity(a: str, b: str, kind: str = COMPANY) -> float:
    """0..100: how alike two names are once reduced to their cores (see module docstring)."""
    return _similarity(prepare_name(a or "", kind), prepare_name(b or "", kind))


# --- blocking --------------------------------------------------------------------------------
def _values(value: Any) -> list[str]:
    """Strings from a string, an iterable of strings, of objects with .number / .value /
    .email / .address, or a related manager."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value.strip() else []
    all_method = getattr(value, "all", None)
    if callable(all_method):
        value = all_method()
    result: list[str] = []
    for item in value:
        if isinstance(item, str):
            text = item
        elif isinstance(item, Mapping):
            text = next(
                (str(item[k]) for k in ("number", "value", "email", "address") if item.get(k)),
                "",
            )
        else:
            text = next(
                (
                    str(getattr(item, attribute))
                    for attribute in ("number", "value", "email", "address")
                    if getattr(item, attribute, None)
                ),
                str(item),
            )
        if text.strip():
            result.append(text)
    return result


def phone_keys(phones: Any) -> set[str]:
    digits = (phone_digits(phone) for phone in _values(phones))
    return {value for value in digits if len(value) >= MIN_PHONE_KEY_DIGITS}


def email_keys(emails: Any) -> set[str]:
    return {key for key in (email_key(email) for email in _values(emails)) if key}


def name_keys(name: str, kind: str = COMPANY) -> set[str]:
    prepared = prepare_name(name or "", kind)
    keys: set[str] = set()
    if prepared.core and has_cjk(prepared.core[:1]):
        keys.add("n:" + prepared.core[:2])
    if prepared.pinyin:
        keys.add("py:" + prepared.pinyin[:4])
    return keys


def blocking_keys(name: str, phones: Any = (), emails: Any = (), kind: str = COMPANY) -> set[str]:
    """Keys such that likely duplicates share at least one (see the module docstring)."""
    keys = name_keys(name, kind)
    keys.update("p:" + digits for digits in phone_keys(phones))
    keys.update("e:" + address for address in email_keys(emails))
    return keys


# --- matching --------------------------------------------------------------------------------
@dataclass(frozen=True)
class MatchReason:
    """Why two records look like duplicates: code is "phone", "email" or "name"; value is the
    shared phone digits / e-mail address or the other record's core name; score is 0..100."""

    code: str
    value: str
    score: float

    @property
    def message(self) -> str:
        if self.code == "phone":
            return gettext("Same phone number")
        if self.code == "email":
            return gettext("Same e-mail address")
        return gettext("Similar name (%(score)s%%)") % {"score": f"{self.score:g}"}

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class Match:
    other: Any
    score: float
    reasons: tuple[MatchReason, ...]


def _attribute(record: Any, name: str) -> Any:
    if isinstance(record, Mapping):
        return record.get(name)
    return getattr(record, name, None)


def _same_record(a: Any, b: Any) -> bool:
    if a is b:
        return True
    pk_a, pk_b = _attribute(a, "pk"), _attribute(b, "pk")
    return pk_a is not None and pk_a == pk_b and type(a) is type(b)


def _prepared_for(record: Any, kind: str) -> PreparedName:
    stored = _attribute(record, "prepared_names")
    found = stored.get(kind) if stored else None
    return found if found is not None else prepare_name(_attribute(record, "name") or "", kind)


def match_candidates(
    candidate: Any,
    others: Iterable[Any],
    threshold: float = DEFAULT_THRESHOLD,
    kind: str = COMPANY,
) -> list[Match]:
    """The records in others that look like duplicates of candidate, best first.

    Records are objects or mappings with ``name``, ``phones`` and ``emails`` (a string, a
    list of strings, or of objects with ``number`` / ``email``); a record compared many
    times may carry its ``phone_keys`` / ``email_keys`` sets, worked out once, and its
    ``prepared_names`` ({kind: PreparedName}, as read from the database). A record
    matches when it shares a phone number or an e-mail address (score 100) or its name is at least
    ``threshold`` similar. The candidate itself (same object, or same type and pk) is skipped.
    """
    name = _attribute(candidate, "name") or ""
    prepared = prepare_name(name, kind)
    phones = phone_keys(_attribute(candidate, "phones"))
    emails = email_keys(_attribute(candidate, "emails"))
    others = [other for other in others if not _same_record(candidate, other)]
    names = NameBlock([_prepared_for(other, kind) for other in others])
    name_scores = dict(names.similar(prepared, threshold))
    matches: list[Match] = []
    for index, other in enumerate(others):
        reasons: list[MatchReason] = []
        if phones:
            other_phones = _attribute(other, "phone_keys")
            if other_phones is None:
                other_phones = phone_keys(_attribute(other, "phones"))
            reasons.extend(
                MatchReason("phone", digits, 100.0) for digits in sorted(phones & other_phones)
            )
        if emails:
            other_emails = _attribute(other, "email_keys")
            if other_emails is None:
                other_emails = email_keys(_attribute(other, "emails"))
            reasons.extend(
                MatchReason("email", address, 100.0) for address in sorted(emails & other_emails)
            )
        score = name_scores.get(index)
        if score is not None:
            reasons.append(MatchReason("name", names.names[index].core, score))
        if reasons:
            matches.append(
                Match(other=other, score=max(r.score for r in reasons), reasons=tuple(reasons))
            )
    matches.sort(key=lambda match: (-match.score, -len(match.reasons)))
    return matches
