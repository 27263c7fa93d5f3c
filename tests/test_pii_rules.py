"""ID-number rules: the check digit, a real past birth date and a known region prefix (of any period)."""

from datetime import date

import pytest
from stdnum.cn import ric

from mediation_hub.core.pii import mask_id_number, mask_phone, normalise_id_number, normalise_phone


def with_check_digit(body: str) -> str:
    return body + ric.calc_check_digit(body + "0")


@pytest.mark.parametrize(
    "body",
    [
        "11010519491231002",  # 北京朝阳, the textbook example
        "44010619800517001",  # 天河区 440106 was created in 1985: a 1980-born resident's ID still carries it
        "13062919900101002",  # 容城县 (雄安新区)
    ],
)
def test_valid_numbers_are_accepted(body):
    number = with_check_digit(body)
    assert normalise_id_number(number.lower()) == number


@pytest.mark.parametrize(
    ("number", "fragment"),
    [
        ("110105194912310021", "校验位"),  # check digit should be X
        (with_check_digit("99010519800517001"), "地区代码"),  # 99xxxx is no division code
        (with_check_digit("11010519800230001"), "出生日期"),  # 30 February
        ("1101051949123100", "18位"),
    ],
)
def test_invalid_numbers_are_refused(number, fragment):
    with pytest.raises(ValueError, match=fragment):
        normalise_id_number(number)


def test_birth_date_in_the_future_is_refused():
    number = with_check_digit("11010520270101001")
    with pytest.raises(ValueError, match="未来"):
        normalise_id_number(number, today=date(2026, 11, 25))
    assert normalise_id_number(number, today=date(2027, 1, 1)) == number


def test_masks():
    assert mask_id_number("11010519491231002X") == "110105********002X"
    assert mask_phone(normalise_phone("138 1234 5678")) == "138****5678"
    assert mask_phone(normalise_phone("010-62345678")) == "010****5678"


def test_mobile_fast_path_agrees_with_the_full_parse():
    """normalise_phone's shortcut for bare 11-digit mobiles gives the full parse's verdict and digits: a
    sample across every 1xx prefix, valid and invalid alike."""
    import random

    import phonenumbers

    def full_parse(value):
        try:
            parsed = phonenumbers.parse(value, "CN")
        except phonenumbers.NumberParseException:
            return None
        if parsed.country_code != 86 or not phonenumbers.is_valid_number(parsed):
            return None
        national = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
        return "".join(ch for ch in national if ch.isdigit())

    rng = random.Random(11)
    samples = [f"1{prefix:02d}{rng.randrange(10**8):08d}" for prefix in range(100) for _ in range(20)]
    samples += [f"1{prefix:04d}{rng.randrange(10**6):06d}" for prefix in (6100, 6109, 7400, 7405, 7406, 7409)]
    for value in samples:
        expected = full_parse(value)
        if expected is None:
            with pytest.raises(ValueError, match="电话号码"):
                normalise_phone(value)
        else:
            assert normalise_phone(value) == expected, value
