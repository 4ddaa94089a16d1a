"""Phone numbers and e-mail addresses: normalise, mask, and reduce to matching keys.

Phones are read with phonenumbers, mainland China (CN) being the default region, after the
input is made half-width (NFKC: １３８ -> 138, （０２１） -> (021), ＋86 -> +86) and common
Chinese ways of writing an extension (转, 分机, a trailing -123 after a landline) are turned
into one phonenumbers understands.

- :func:`phone_normalise` validates and answers a :class:`NormalisedPhone` (E.164 for
  storage, a readable national form, the digits used for matching, a kind guess);
- :func:`phone_digits` never raises: it answers the digits used for indexing and duplicate
  matching (``13812345678``, ``01012345678``; numbers outside China as ``00`` + country code
  + number, so they never collide with a Chinese one);
- :func:`phone_mask` answers ``138****5678`` for roles that may not see phone numbers;
- :func:`email_normalise` / :func:`email_mask` / :func:`email_key` do the same for e-mail.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.utils.translation import gettext

DEFAULT_REGION = "CN"

# Written extensions: "转 123", "分机123", "ext. 123", "x123", "#123", "-123" after a landline.
_EXTENSION_RE = re.compile(
    r"^(?P<number>.*\d)\s*(?:转|分机|分機|ext\.?|extension|x|#|,|;)\s*(?P<ext>\d{1,6})\s*#?$",
    re.IGNORECASE,
)
_TRAILING_DASH_EXTENSION_RE = re.compile(r"^(?P<number>.*\d)\s*-\s*(?P<ext>\d{1,6})$")
_DIGITS_RE = re.compile(r"\d+")
_ALLOWED_RE = re.compile(r"^[\d\s\-+().\[\]/]*$")
MAX_PHONE_LENGTH = 64

# What a person would call the number, from phonenumbers' PhoneNumberType.
_KINDS = {
    phonenumbers.PhoneNumberType.MOBILE: "mobile",
    phonenumbers.PhoneNumberType.FIXED_LINE: "landline",
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE: "landline_or_mobile",
    phonenumbers.PhoneNumberType.TOLL_FREE: "toll_free",
    phonenumbers.PhoneNumberType.SHARED_COST: "shared_cost",
    phonenumbers.PhoneNumberType.PREMIUM_RATE: "premium_rate",
    phonenumbers.PhoneNumberType.VOIP: "voip",
    phonenumbers.PhoneNumberType.UAN: "other",
    phonenumbers.PhoneNumberType.PAGER: "other",
    phonenumbers.PhoneNumberType.PERSONAL_NUMBER: "other",
    phonenumbers.PhoneNumberType.VOICEMAIL: "other",
}


@dataclass(frozen=True)
class NormalisedPhone:
    """A valid phone number in the forms the application needs.

    e164: ``+8613812345678`` (store this; no extension);
    national: ``138 1234 5678`` / ``010 1234 5678`` for numbers of the default region, the
      international form (``+1 650-253-0000``) for others;
    digits: matching/index key, see :func:`phone_digits`;
    kind_guess: ``mobile``, ``landline``, ``landline_or_mobile``, ``toll_free``,
      ``shared_cost``, ``premium_rate``, ``voip`` or ``other``;
    extension: ``123`` or "";
    region: ISO 3166 code of the number's country (``CN``).
    """

    e164: str
    national: str
    digits: str
    kind_guess: str
    extension: str = ""
    region: str = DEFAULT_REGION

    @property
    def display(self) -> str:
        """The national form with its extension: ``010 1234 5678 ext. 123``."""
        if not self.extension:
            return self.national
        return gettext("%(number)s ext. %(extension)s") % {
            "number": self.national,
            "extension": self.extension,
        }

    def __str__(self) -> str:
        return self.display


def _half_width(raw: object) -> str:
    return unicodedata.normalize("NFKC", str(raw or "")).strip()


def _parse(text: str, region: str) -> phonenumbers.PhoneNumber | None:
    try:
        return phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None


def _parse_valid(text: str, region: str) -> phonenumbers.PhoneNumber | None:
    """Parse, trying the Chinese ways of writing an extension; None if not a valid number."""
    if not text or len(text) > MAX_PHONE_LENGTH:
        return None
    parsed = _parse(text, region)
    if parsed is not None and phonenumbers.is_valid_number(parsed):
        return parsed
    for pattern in (_EXTENSION_RE, _TRAILING_DASH_EXTENSION_RE):
        match = pattern.match(text)
        if match is None:
            continue
        number = match.group("number").rstrip(" -")
        if not _ALLOWED_RE.match(number):
            continue
        parsed = _parse(number, region)
        if parsed is not None and phonenumbers.is_valid_number(parsed):
            # A trailing "-123" is an extension only after a landline, never a mobile.
            if pattern is _TRAILING_DASH_EXTENSION_RE and _kind(parsed) == "mobile":
                return None
            parsed.extension = match.group("ext")
            return parsed
    return None


def _kind(parsed: phonenumbers.PhoneNumber) -> str:
    return _KINDS.get(phonenumbers.number_type(parsed), "other")


def _digits_of(parsed: phonenumbers.PhoneNumber, region: str) -> str:
    """National dialling digits for the default region's numbers, 00+cc+number otherwise."""
    national_number = phonenumbers.national_significant_number(parsed)
    if phonenumbers.region_code_for_number(parsed) == region or (
        parsed.country_code == phonenumbers.country_code_for_region(region)
    ):
        # 010 1234 5678 -> 01012345678, 138 1234 5678 -> 13812345678: as dialled at home.
        national = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
        return "".join(_DIGITS_RE.findall(national.split(" ext.")[0])) or national_number
    return f"00{parsed.country_code}{national_number}"


def phone_normalise(raw: object, region: str = DEFAULT_REGION) -> NormalisedPhone:
    """A valid phone number in its normal forms, or ValidationError with a clear message.

    Accepts spaces, dashes, dots and brackets, full-width digits, +86 / 0086 prefixes and
    extensions ("010-12345678 转 8001", "010-12345678-8001", "ext. 8001").
    """
    text = _half_width(raw)
    if not text:
        raise ValidationError(gettext("Enter a phone number."), code="required")
    normalised = _normalised(text, region)
    if normalised is None:
        raise ValidationError(
            gettext("Enter a valid phone number, for example 138 1234 5678 or 010-12345678."),
            code="invalid_phone",
        )
    return normalised


# The same number is parsed several times per imported row (normalising, duplicate keys,
# search); parsing is the expensive part and its result never changes.
@lru_cache(maxsize=16384)
def _normalised(text: str, region: str) -> NormalisedPhone | None:
    parsed = _parse_valid(text, region)
    if parsed is None:
        return None
    number_region = phonenumbers.region_code_for_number(parsed) or region
    if number_region == region:
        national = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    else:
        national = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    extension = parsed.extension or ""
    if extension:
        national = re.sub(r"\s*ext\.\s*\d+$", "", national)
    return NormalisedPhone(
        e164=phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164),
        national=national,
        digits=_digits_of(parsed, region),
        kind_guess=_kind(parsed),
        extension=extension,
        region=number_region,
    )


def phone_is_valid(raw: object, region: str = DEFAULT_REGION) -> bool:
    return _parse_valid(_half_width(raw), region) is not None


@lru_cache(maxsize=16384)
def phone_digits(raw: object, region: str = DEFAULT_REGION) -> str:
    """Digits only, for indexing and matching; never raises.

    Valid Chinese numbers give their national dialling digits without the country code and
    without an extension (``+86 138-1234-5678`` -> ``13812345678``, ``(010) 1234-5678`` ->
    ``01012345678``); valid foreign numbers give ``00`` + country code + number. Anything
    phonenumbers cannot validate gives its digits, with a leading 0086/+86 removed.
    """
    text = _half_width(raw)
    if not text:
        return ""
    parsed = _parse_valid(text, region)
    if parsed is not None:
        return _digits_of(parsed, region)
    digits = "".join(_DIGITS_RE.findall(text))[:MAX_PHONE_LENGTH]
    country = str(phonenumbers.country_code_for_region(region))
    if digits.startswith("00" + country) and len(digits) > len(country) + 6:
        return digits[2 + len(country) :]
    if text.startswith("+" + country) and len(digits) > len(country) + 4:
        return digits[len(country) :]
    return digits


def _mask_digits(digits: str) -> str:
    """Keep the first 3 and last 4 digits of 8 or more; fewer show less."""
    length = len(digits)
    if length >= 8:
        return digits[:3] + "*" * (length - 7) + digits[-4:]
    if length >= 5:
        return digits[:2] + "*" * (length - 4) + digits[-2:]
    if length >= 2:
        return digits[0] + "*" * (length - 1)
    return "*" * length


def phone_mask(value: object, region: str = DEFAULT_REGION) -> str:
    """``138****5678`` for 138 1234 5678 / +8613812345678, ``010****5678`` for a landline;
    a foreign number keeps its country code (``+1 650***0000``). Never raises."""
    text = _half_width(value)
    if not text:
        return ""
    parsed = _parse_valid(text, region)
    if parsed is None:
        return _mask_digits(phone_digits(text, region))
    digits = _digits_of(parsed, region)
    if digits.startswith("00"):
        return f"+{parsed.country_code} " + _mask_digits(
            phonenumbers.national_significant_number(parsed)
        )
    return _mask_digits(digits)


# --- e-mail ----------------------------------------------------------------------------------
_email_validator = EmailValidator()
_DISPLAY_NAME_RE = re.compile(r"<([^<>]+)>\s*$")


def email_normalise(raw: object) -> str:
    """The address stripped, half-width and with a lower-case domain; ValidationError if not
    a valid address. The local part keeps its case (mail servers may honour it).

    Accepts ``mailto:`` links and ``Zhang Wei <zhang.wei@example.com>``.
    """
    text = _half_width(raw)
    match = _DISPLAY_NAME_RE.search(text)
    if match:
        text = match.group(1).strip()
    if text.lower().startswith("mailto:"):
        text = text[len("mailto:") :].split("?", 1)[0].strip()
    if not text:
        raise ValidationError(gettext("Enter an e-mail address."), code="required")
    local, at, domain = text.rpartition("@")
    if at:
        text = f"{local}@{domain.lower().rstrip('.')}"
    try:
        _email_validator(text)
    except ValidationError:
        raise ValidationError(
            gettext("Enter a valid e-mail address, for example zhang.wei@example.com."),
            code="invalid_email",
        ) from None
    return text


def email_key(raw: object) -> str:
    """The address for matching: normalised and fully lower-case; "" if not an address."""
    try:
        return email_normalise(raw).casefold()
    except ValidationError:
        return ""


def email_mask(value: object) -> str:
    """``z***@example.com``: the first character of the local part and the domain."""
    text = _half_width(value)
    if not text:
        return ""
    local, at, domain = text.rpartition("@")
    if not at:
        return text[:1] + "***"
    return f"{local[:1]}***@{domain.lower()}"
