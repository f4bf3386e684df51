"""What the FAQ search reads of a message that carries a phone number, an email or an order
number (bot/nlu/identifiers.py)."""
from __future__ import annotations

import unicodedata

import pytest

from bot.nlu.identifiers import only_order_number, without_identifiers


@pytest.mark.parametrize("message, searched", [
    # a contact given beside the question: the number and the words that introduce it go
    ("phí ship bao nhiêu, sđt của mình là 0912 345 678", "phí ship bao nhiêu"),
    ("phi ship bao nhieu sdt minh 0912.345.678", "phi ship bao nhieu"),
    ("mình là Lan, email lan.nguyen@gmail.com. quên mật khẩu thì làm sao",
     "mình là Lan, quên mật khẩu thì làm sao"),
    ("sdt e +84 912 345 678, ship cod dc ko shop", "ship cod dc ko shop"),
    ("my phone is +84 912 345 678, do you ship to Hue?", "do you ship to Hue?"),
    # inside a clause the cue is part of the question
    ("đổi sđt 0912345678 sang số khác được không", "đổi sđt sang số khác được không"),
    # an order number goes, "đơn" stays: the question is still about an order
    ("hủy đơn HT123456 giúp mình", "hủy đơn giúp mình"),
    ("đơn (#123456) bao giờ giao vậy", "đơn bao giờ giao vậy"),
    ("Order #280642: how much is shipping", "Order: how much is shipping"),
])
def test_the_search_reads_the_question_without_the_identifiers(message, searched):
    assert without_identifiers(message) == searched


def test_nfd_input_reads_like_nfc():
    message = "phí ship bao nhiêu, sđt của mình là 0912 345 678"
    searched = without_identifiers(unicodedata.normalize("NFD", message))
    assert unicodedata.normalize("NFC", searched) == "phí ship bao nhiêu"


@pytest.mark.parametrize("message", [
    "0912345678", "sđt 0912 345 678", "lan.nguyen@gmail.com", "HT123456",  # nothing else
    "phí ship bao nhiêu", "giao trong 2 ngày, đơn trên 200k", "ko nhận dc mã otp",  # none
])
def test_a_message_with_nothing_but_identifiers_or_none_is_read_as_it_is(message):
    assert without_identifiers(message) == message


@pytest.mark.parametrize("message", [
    "mã đơn DH123456", "DH123456", "ma don dh123456", "đơn của mình là HT123456 nhé",
    "đơn hàng số 2411250001 ạ", "my order number is #280642", "mã đơn: HT123456 shop ơi",
    unicodedata.normalize("NFD", "mã đơn của em đây HT123456"),
])
def test_a_message_that_only_gives_an_order_number(message):
    assert only_order_number(message)


@pytest.mark.parametrize("message", [
    "hủy đơn HT123456 giúp mình", "kiểm tra đơn #DH2024 giúp mình", "đơn HT123456 bao giờ giao vậy",
    "Order #280642: how much is shipping", "mã đơn là gì", "phí ship bao nhiêu",
    "đơn DH123456, sđt 0912345678",  # a call-back too: give_contact's
])
def test_a_message_that_asks_something_about_its_order_or_gives_none(message):
    assert not only_order_number(message)
