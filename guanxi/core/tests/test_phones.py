import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from guanxi.core.phones import (
    email_key,
    email_mask,
    email_normalise,
    phone_digits,
    phone_is_valid,
    phone_mask,
    phone_normalise,
)


@pytest.mark.parametrize(
    "raw",
    [
        "138 1234 5678",
        "13812345678",
        "+86 138-1234-5678",
        "0086 138 1234 5678",
        "8613812345678",
        "１３８１２３４５６７８",
        "＋８６　１３８－１２３４－５６７８",
        "(+86) 138.1234.5678",
    ],
)
def test_mobile_numbers_in_every_common_spelling_normalise_alike(raw):
    phone = phone_normalise(raw)
    assert phone.e164 == "+8613812345678"
    assert phone.national == "138 1234 5678"
    assert phone.digits == "13812345678"
    assert phone.kind_guess == "mobile"
    assert phone.extension == ""
    assert phone.region == "CN"


@pytest.mark.parametrize(
    ("raw", "e164", "national", "digits"),
    [
        ("010-12345678", "+861012345678", "010 1234 5678", "01012345678"),
        ("(010) 1234 5678", "+861012345678", "010 1234 5678", "01012345678"),
        ("(021) 6234 5678", "+862162345678", "021 6234 5678", "02162345678"),
        ("（０２１）６２３４　５６７８", "+862162345678", "021 6234 5678", "02162345678"),
        ("0755-8888 6666", "+8675588886666", "0755 8888 6666", "075588886666"),
        ("+86 10 1234 5678", "+861012345678", "010 1234 5678", "01012345678"),
    ],
)
def test_landlines_keep_their_area_code(raw, e164, national, digits):
    phone = phone_normalise(raw)
    assert (phone.e164, phone.national, phone.digits) == (e164, national, digits)
    assert phone.kind_guess == "landline"


@pytest.mark.parametrize(
    "raw",
    [
        "010-12345678 转 8001",
        "010-12345678转8001",
        "010-12345678 分机 8001",
        "010-12345678 ext. 8001",
        "010-12345678 x8001",
        "010-12345678-8001",
        "010 1234 5678 #8001",
    ],
)
def test_extensions_are_kept_apart_from_the_number(raw):
    phone = phone_normalise(raw)
    assert phone.e164 == "+861012345678"
    assert phone.extension == "8001"
    assert phone.digits == "01012345678"
    assert phone.national == "010 1234 5678"
    assert phone.display == "010 1234 5678 ext. 8001"


def test_a_dash_group_after_a_mobile_number_is_not_an_extension():
    with pytest.raises(ValidationError):
        phone_normalise("138-1234-5678-12")


def test_toll_free_and_foreign_numbers():
    hotline = phone_normalise("400-810-8888")
    assert hotline.e164 == "+864008108888"
    assert hotline.kind_guess != "mobile"

    foreign = phone_normalise("+1 650 253 0000")
    assert foreign.e164 == "+16502530000"
    assert foreign.region == "US"
    assert foreign.national == "+1 650-253-0000"
    # Never collides with a Chinese number's digits.
    assert foreign.digits == "0016502530000"

    hong_kong = phone_normalise("+852 2123 4567")
    assert hong_kong.region == "HK"
    assert hong_kong.digits == "0085221234567"


def test_region_parameter_reads_national_numbers_of_another_country():
    phone = phone_normalise("(650) 253-0000", region="US")
    assert phone.e164 == "+16502530000"
    assert phone.national == "(650) 253-0000"
    assert phone.digits == "6502530000"


@pytest.mark.parametrize("raw", ["12345", "138123", "1381234567890123", "abc", "010-1234", "+"])
def test_invalid_numbers_raise_a_clear_translated_error(raw):
    with pytest.raises(ValidationError) as excinfo:
        phone_normalise(raw)
    assert excinfo.value.code == "invalid_phone"
    assert "valid phone number" in excinfo.value.messages[0]
    assert phone_is_valid(raw) is False


def test_empty_phone_is_required_error():
    with pytest.raises(ValidationError) as excinfo:
        phone_normalise("  ")
    assert excinfo.value.code == "required"


def test_phone_message_is_translated_at_call_time():
    # The message is produced with gettext when raised, not frozen at import time.
    with translation.override("en"), pytest.raises(ValidationError) as excinfo:
        phone_normalise("12")
    assert excinfo.value.messages == [
        "Enter a valid phone number, for example 138 1234 5678 or 010-12345678."
    ]


def test_phone_digits_for_matching():
    assert phone_digits("+86 138-1234-5678") == "13812345678"
    assert phone_digits("138 1234 5678") == phone_digits("0086 13812345678")
    assert phone_digits("(010) 1234-5678 转 9") == "01012345678"
    assert phone_digits("010-12345678") == phone_digits("+86 10 1234 5678")
    assert phone_digits("") == ""
    assert phone_digits(None) == ""
    # Not a valid number: its digits, never an exception.
    assert phone_digits("95588") == "95588"
    assert phone_digits("+86 95588 123") == "95588123"
    assert phone_digits("no digits") == ""


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("13812345678", "138****5678"),
        ("+86 138 1234 5678", "138****5678"),
        ("+8613812345678", "138****5678"),
        ("010-12345678", "010****5678"),
        ("0755-8888 6666", "075*****6666"),
        ("010-12345678 转 8001", "010****5678"),
        ("+1 650 253 0000", "+1 650***0000"),
        ("95588", "95*88"),
        ("12", "1*"),
        ("", ""),
        (None, ""),
    ],
)
def test_phone_mask(raw, masked):
    assert phone_mask(raw) == masked


def test_phone_mask_hides_the_middle_digits():
    masked = phone_mask("13898765432")
    assert "9876" not in masked
    assert masked.startswith("138") and masked.endswith("5432")


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("  Zhang.Wei@Example.COM ", "Zhang.Wei@example.com"),
        ("zhangwei＠ｑｑ．ｃｏｍ", "zhangwei@qq.com"),
        ("mailto:li.na@Example.cn", "li.na@example.cn"),
        ("张伟 <zw@Example.com>", "zw@example.com"),
        ("user+tag@sub.example.com.", "user+tag@sub.example.com"),
    ],
)
def test_email_normalise(raw, normalised):
    assert email_normalise(raw) == normalised


@pytest.mark.parametrize("raw", ["zhang", "zhang@", "@example.com", "a b@example.com", "x@y"])
def test_invalid_email_raises_a_clear_error(raw):
    with pytest.raises(ValidationError) as excinfo:
        email_normalise(raw)
    assert excinfo.value.code == "invalid_email"
    assert "valid e-mail address" in excinfo.value.messages[0]


def test_empty_email_is_required():
    with pytest.raises(ValidationError) as excinfo:
        email_normalise("")
    assert excinfo.value.code == "required"


def test_email_key_is_case_insensitive_and_never_raises():
    assert email_key("Zhang.Wei@Example.com") == email_key("zhang.wei@example.COM")
    assert email_key("not an address") == ""


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("zhang.wei@example.com", "z***@example.com"),
        ("a@Example.COM", "a***@example.com"),
        ("nobody", "n***"),
        ("", ""),
    ],
)
def test_email_mask(raw, masked):
    assert email_mask(raw) == masked
