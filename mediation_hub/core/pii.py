"""Personal data: validation of ID numbers, USCCs and phones, encryption at rest, masking, keyed look-up.

python-stdnum does the check-digit work (``stdnum.cn.ric`` for resident ID numbers, which also checks
the birth date and the region prefix against its own list of historical division codes;
``stdnum.cn.uscc`` for unified social credit codes); ``phonenumbers`` validates mainland phones;
``cryptography``'s Fernet encrypts; HMAC-SHA256 gives the keyed hash used for searching.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import date
from functools import lru_cache

import phonenumbers
from cryptography.fernet import Fernet, InvalidToken
from flask import current_app
from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column
from stdnum.cn import ric, uscc
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidLength, ValidationError

from .messages import coded
from .shanghai import today_shanghai


def normalise_id_number(value: str, *, today: date | None = None) -> str:
    """Return the compact ID number or raise ValueError with a message a person can act on."""
    try:
        if value and len(value) == 18 and value.isascii() and value[:17].isdigit() and value[17] in _CHECK_CHARS:
            number = value.upper()  # already compact: what ric.compact returns, without its per-character clean
        else:
            number = ric.compact(value or "").upper()
        if len(number) != 18:
            raise InvalidLength()
        if number[-1] != ric.calc_check_digit(number):
            raise InvalidChecksum()
        born = _birth_date(number)
        if not _known_region_prefix(number[:6]):
            raise InvalidComponent()
    except InvalidChecksum as exc:
        raise ValueError(coded("id_number_check_digit", "身份证号码校验位错误")) from exc
    except InvalidLength as exc:
        raise ValueError(coded("id_number_length", "身份证号码应为18位")) from exc
    except InvalidComponent as exc:
        raise ValueError(coded("id_number_invalid_part", "身份证号码中的出生日期或地区代码无效")) from exc
    except ValidationError as exc:
        raise ValueError(coded("id_number_malformed", "身份证号码格式错误")) from exc
    if born > (today or today_shanghai()):
        raise ValueError(coded("id_number_born_in_future", "身份证号码中的出生日期在未来"))
    return number


_CHECK_CHARS = frozenset("0123456789Xx")


def _birth_date(number: str) -> date:
    """``ric.get_birth_date`` of a compact number (it would compact the number a second time)."""
    year, month, day = int(number[6:10]), int(number[10:12]), int(number[12:14])
    try:
        return date(year, month, day)
    except ValueError:
        raise InvalidComponent() from None


@lru_cache(maxsize=4096)
def _known_region_prefix(prefix: str) -> bool:
    """Whether the six-digit prefix is a division code that has existed at any time.

    stdnum's ``get_birth_place`` also demands that the code existed in the birth year, which rejects real
    numbers: an ID takes the code of the place where it was first issued, often years after birth (a
    1980-born resident of 天河区 440106, a code created in 1985, holds a valid 440106… number)."""
    from stdnum import numdb

    return any(props for _part, props in numdb.get("cn/loc").info(prefix))


def normalise_uscc(value: str) -> str:
    """Return the compact unified social credit code or raise ValueError."""
    try:
        return uscc.validate(value or "")
    except InvalidChecksum as exc:
        raise ValueError(coded("uscc_check_digit", "统一社会信用代码校验位错误")) from exc
    except ValidationError as exc:
        raise ValueError(coded("uscc_malformed", "统一社会信用代码格式错误")) from exc


@lru_cache(maxsize=1)
def _mainland_mobile() -> re.Pattern[str]:
    """phonenumbers' own pattern of mainland mobile numbers (11 digits, from its CN metadata)."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region("CN")
    # phonenumbers ships the CN metadata with a mobile pattern; None would be a broken install
    assert metadata is not None and metadata.mobile is not None
    assert metadata.mobile.national_number_pattern is not None
    return re.compile(metadata.mobile.national_number_pattern)


def normalise_phone(value: str) -> str:
    """Return a mainland number as digits (mobile: 11 digits; fixed line: area code + number).

    A bare 11-digit mobile number (most of what people type, and of every import) is checked against the
    library's mobile pattern directly: the same verdict and the same digits as the full parse, in a fraction
    of its time (the parse was the largest single cost of checking an import row). Everything else takes the
    full parse."""
    if value and len(value) == 11 and value.isascii() and value.isdigit() and _mainland_mobile().fullmatch(value):
        return value
    try:
        parsed = phonenumbers.parse(value or "", "CN")
    except phonenumbers.NumberParseException as exc:
        raise ValueError(coded("phone_malformed", "电话号码格式错误")) from exc
    if parsed.country_code != 86 or not phonenumbers.is_valid_number(parsed):
        raise ValueError(coded("phone_not_mainland", "不是有效的中国大陆电话号码"))
    national = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    return "".join(ch for ch in national if ch.isdigit())


def mask_id_number(number: str) -> str:
    """110105********123X: region kept, birth date and sequence hidden, last four shown."""
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def mask_uscc(code: str) -> str:
    return code[:8] + "*" * (len(code) - 12) + code[-4:]


def mask_phone(number: str) -> str:
    """138****1234 for mobiles; fixed lines keep the area code and last four."""
    if len(number) <= 7:
        return "*" * (len(number) - 2) + number[-2:]
    return number[:3] + "*" * (len(number) - 7) + number[-4:]


_ID_NUMBER_RUN = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9])")
_MOBILE_RUN = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")


def mask_numbers_in_text(text: str) -> str:
    """``text`` with every valid ID number or mobile number written inside it masked ("王一 13812345678" becomes
    "王一 138****5678"): for free text that may hold a number typed by someone (a search box, a username typed
    at sign-in) and is going somewhere numbers may not (a URL, the audit log)."""

    def id_number(match: re.Match[str]) -> str:
        try:
            return mask_id_number(normalise_id_number(match.group()))
        except ValueError:  # 18 digits that are no ID number (an all-digit USCC): left as they are
            return match.group()

    return _MOBILE_RUN.sub(lambda m: mask_phone(m.group()), _ID_NUMBER_RUN.sub(id_number, text))


@lru_cache(maxsize=4)
def _fernet(key: str) -> Fernet:
    return Fernet(key.encode())


def encrypt(value: str) -> str:
    return _fernet(current_app.config["PII_KEY"]).encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet(current_app.config["PII_KEY"]).decrypt(token.encode()).decode()
    except InvalidToken as exc:  # a wrong key is an operator error, not the caller's
        raise RuntimeError("personal data could not be decrypted with the configured key") from exc


def encrypt_bytes(value: bytes) -> bytes:
    """Bytes that hold personal numbers (a document with full ID numbers), encrypted at rest like the numbers."""
    return _fernet(current_app.config["PII_KEY"]).encrypt(value)


def decrypt_bytes(token: bytes) -> bytes:
    try:
        return _fernet(current_app.config["PII_KEY"]).decrypt(token)
    except InvalidToken as exc:
        raise RuntimeError("personal data could not be decrypted with the configured key") from exc


def lookup_hash(kind: str, value: str) -> str:
    """Keyed hash for searching (the plain value is never stored or compared)."""
    key = base64.urlsafe_b64decode(current_app.config["LOOKUP_KEY"])
    return hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def generate_key() -> str:
    return Fernet.generate_key().decode()


class PersonalNumbersMixin:
    """ID number (or USCC) and phone, kept encrypted with a masked copy and a keyed look-up hash."""

    id_number_enc: Mapped[str | None] = mapped_column(Text)
    id_number_masked: Mapped[str | None] = mapped_column(String(24))
    id_number_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    phone_enc: Mapped[str | None] = mapped_column(Text)
    phone_masked: Mapped[str | None] = mapped_column(String(24))
    phone_hash: Mapped[str | None] = mapped_column(String(64), index=True)

    def set_id_number(self, number: str | None, *, kind: str = "ric") -> None:
        """Store an already-validated number (``kind`` 'ric' or 'uscc')."""
        if not number:
            self.id_number_enc = self.id_number_masked = self.id_number_hash = None
            return
        self.id_number_enc = encrypt(number)
        self.id_number_masked = mask_uscc(number) if kind == "uscc" else mask_id_number(number)
        self.id_number_hash = lookup_hash(kind, number)

    def set_phone(self, number: str | None) -> None:
        if not number:
            self.phone_enc = self.phone_masked = self.phone_hash = None
            return
        self.phone_enc = encrypt(number)
        self.phone_masked = mask_phone(number)
        self.phone_hash = lookup_hash("phone", number)

    def full_id_number(self) -> str | None:
        """The clear value; call only from an audited reveal."""
        return decrypt(self.id_number_enc) if self.id_number_enc else None

    def full_phone(self) -> str | None:
        return decrypt(self.phone_enc) if self.phone_enc else None


# --- erasure (privacy's retention job and a person's request; each owning package erases its own rows) ----------

# The name an erased person's rows keep: the row stays (the statistics read it), the person is gone.
ERASED_NAME = "已删除"
# What set_id_number(None) and set_phone(None) write, as one UPDATE for a batch of rows.
CLEARED_NUMBERS: dict[str, None] = {
    "id_number_enc": None,
    "id_number_masked": None,
    "id_number_hash": None,
    "phone_enc": None,
    "phone_masked": None,
    "phone_hash": None,
}
