"""Turn field values into the index document and a query into its terms.

A document is a space-separated list of tokens, each made only of lower-case ASCII letters
and digits or only of Chinese characters, so SQLite's unicode61 tokenizer and PostgreSQL's
'simple' parser both see exactly the tokens written here:

- words (ASCII and other scripts), lower-cased; dotted names also joined ("zhang.wei" ->
  "zhangwei");
- every Chinese character, and every pair of neighbouring characters (bigrams), so any
  Chinese substring of two or more characters matches ("北京华为" -> 北京 京华 华为);
- jieba words, their pinyin and initials (华为 -> huawei, hw);
- pinyin and initials of the whole value and of its company-name cores (suffixes such as
  有限公司 and place prefixes such as 北京 removed);
- personal names with the surname reading (单雄 -> shanxiong, sx);
- phones: all digits, without the +86 country code, the national number, last 8 and last 4;
- e-mails: the parts of the address, the local part joined, the whole address joined.

A query is split the same way; every term must match, each as a prefix.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from guanxi.core.search.chinese import (
    CJK_CLASS,
    has_cjk,
    initials,
    jieba_words,
    name_cores,
    name_syllables,
    syllables,
)

_RUN_RE = re.compile(rf"(?P<cjk>[{CJK_CLASS}]+)|(?P<word>[^\W_{CJK_CLASS}]+)")
_PHONE_QUERY_STRIP = re.compile(r"[\s\-+().]")
_ASCII_DIGITS = re.compile(r"[0-9]+")
MAX_TOKEN_LENGTH = 64
MAX_WHOLE_PINYIN_LENGTH = 64  # longer values (addresses, notes) get word-level pinyin only
MAX_QUERY_LENGTH = 100
MAX_QUERY_TERMS = 12


def normalise(text: str) -> str:
    """Full-width to half-width (NFKC) and case-folded."""
    return unicodedata.normalize("NFKC", text).casefold()


def runs(text: str) -> list[tuple[str, str]]:
    """("cjk", run) and ("word", run) pieces of already normalised text, in order."""
    return [
        ("cjk", match.group("cjk")) if match.group("cjk") else ("word", match.group("word"))
        for match in _RUN_RE.finditer(text)
    ]


def bigrams(run: str) -> list[str]:
    return [run[i : i + 2] for i in range(len(run) - 1)]


def phone_digits(value: str) -> list[str]:
    """The forms of a phone number a search may start with."""
    text = unicodedata.normalize("NFKC", value)
    digits = "".join(_ASCII_DIGITS.findall(text))
    if len(digits) < 3:
        return []
    forms = [digits]
    national = strip_country_code(digits, plus=text.lstrip().startswith("+"))
    forms.append(national)
    try:
        import phonenumbers

        parsed = phonenumbers.parse(text, "CN")
    except Exception:  # noqa: BLE001 - anything phonenumbers cannot read is kept as digits
        parsed = None
    if parsed is not None and parsed.national_number:
        forms.append(str(parsed.national_number))
        forms.append(f"{parsed.country_code}{parsed.national_number}")
    if len(national) > 8:
        forms.append(national[-8:])
    if len(national) > 4:
        forms.append(national[-4:])
    return forms


def strip_country_code(digits: str, *, plus: bool = False) -> str:
    """13812345678 from 8613812345678 / 008613812345678 (+86 written or not)."""
    if digits.startswith("0086") and len(digits) > 6:
        return digits[4:]
    if digits.startswith("86") and (plus or (len(digits) == 13 and digits[2] == "1")):
        return digits[2:]
    return digits


class DocumentBuilder:
    """Collects tokens (in order, without repeats) for one record."""

    def __init__(self) -> None:
        self._tokens: dict[str, None] = {}

    def add(self, token: str) -> None:
        if token and len(token) <= MAX_TOKEN_LENGTH:
            self._tokens.setdefault(token, None)

    def add_all(self, tokens: Iterable[str]) -> None:
        for token in tokens:
            self.add(token)

    def document(self) -> str:
        return " ".join(self._tokens)

    # --- kinds of values ---------------------------------------------------------------------
    def _add_runs(self, text: str) -> None:
        for chunk in text.split():
            words = []
            for kind, run in runs(chunk):
                if kind == "cjk":
                    self.add_all(run)
                    self.add_all(bigrams(run))
                else:
                    self.add(run)
                    words.append(run)
            if len(words) > 1 and all(word.isascii() for word in words):
                self.add("".join(words))  # zhang.wei -> zhangwei

    def _add_pinyin(self, text: str) -> None:
        parts = syllables(text)
        if parts:
            self.add("".join(parts))
            self.add(initials(parts))

    def add_text(self, value: str) -> None:
        text = normalise(value or "").strip()
        if not text:
            return
        self._add_runs(text)
        if not has_cjk(text):
            return
        for word in jieba_words(text):
            if len(word) > 1 and has_cjk(word):
                self.add(word)
                self._add_pinyin(word)
        if len(text) <= MAX_WHOLE_PINYIN_LENGTH:
            for core in name_cores(text):
                self._add_pinyin(core)

    def add_person_name(self, value: str) -> None:
        text = normalise(value or "").strip()
        if not text:
            return
        self._add_runs(text)
        for kind, run in runs(text):
            if kind != "cjk" or len(run) > 6:
                continue
            surname, given = name_syllables(run)
            self.add("".join(surname + given))
            self.add(initials(surname + given))
            if given:
                self.add("".join(given))
                self.add(initials(given))
        words = [run for kind, run in runs(text) if kind == "word"]
        if len(words) > 1:
            self.add("".join(words))  # "John Smith" -> johnsmith

    def add_phone(self, value: str) -> None:
        self.add_all(phone_digits(value or ""))

    def add_email(self, value: str) -> None:
        text = normalise(value or "").strip()
        if "@" not in text:
            self.add_text(text)
            return
        local, _, domain = text.rpartition("@")
        local_words = [run for _kind, run in runs(local)]
        domain_words = [run for _kind, run in runs(domain)]
        self.add_all(local_words)
        self.add_all(domain_words)
        self.add("".join(local_words))
        self.add("".join(local_words + domain_words))


def query_terms(query: str) -> list[str]:
    """The terms of a query; every one must match as a prefix of some token.

    A phone-like query becomes one digit string (without a +86 country code); a Chinese run
    becomes its bigrams (a single character stays one term); words stay words.
    """
    text = normalise(query or "").strip()[:MAX_QUERY_LENGTH]
    if not text:
        return []
    compact = _PHONE_QUERY_STRIP.sub("", text)
    if len(compact) >= 3 and compact.isascii() and compact.isdigit():
        return [strip_country_code(compact, plus=text.startswith("+"))]
    terms: dict[str, None] = {}
    for kind, run in runs(text):
        if kind == "cjk" and len(run) > 1:
            for pair in bigrams(run):
                terms.setdefault(pair, None)
        else:
            terms.setdefault(run[:MAX_TOKEN_LENGTH], None)
    return list(terms)[:MAX_QUERY_TERMS]
