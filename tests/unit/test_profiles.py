"""Customer profiles: one customer across channels, joined by phone number or email."""
from __future__ import annotations

import unicodedata

import pytest

from bot.handoff.profiles import CustomerProfiles, customer_profiles, phone_key
from bot.handoff.store import TicketStore


@pytest.fixture
def profiles(tmp_path) -> CustomerProfiles:
    return customer_profiles(TicketStore(f"sqlite:///{tmp_path / 'hotro.db'}"))


def test_same_phone_on_two_channels_is_one_customer(profiles):
    web = profiles.link("widget", "w-1", phone="0912345678")
    fb = profiles.link("facebook", "psid-1", phone="0912345678")
    assert web == fb is not None
    assert profiles.linked_conversations("facebook", "psid-1") == [("widget", "w-1")]
    assert profiles.linked_conversations("widget", "w-1") == [("facebook", "psid-1")]


def test_same_email_links_whatever_its_case(profiles):
    assert profiles.link("zalo", "z-1", email="Lan.Nguyen@Gmail.com") == \
        profiles.link("rest", "r-1", email="lan.nguyen@gmail.com")
    assert profiles.linked_conversations("rest", "r-1") == [("zalo", "z-1")]


@pytest.mark.parametrize("written", [
    "0912 345 678", "+84912345678", "+84 912 345 678", "84912345678", "0912.345.678",
    "0912-345-678", "0912\u00a0345\u00a0678", "０９１２ ３４５ ６７８",
    unicodedata.normalize("NFD", "sđt 0912 345 678"),
])
def test_ways_of_writing_one_number_give_one_customer(profiles, written):
    assert phone_key(written) == "0912345678"
    first = profiles.link("rest", "a", phone="0912345678")
    assert profiles.link("widget", "b", phone=written) == first


def test_different_numbers_and_invalid_contacts_do_not_link(profiles):
    one = profiles.link("rest", "a", phone="0912345678")
    other = profiles.link("rest", "b", phone="0912345679")
    assert one != other
    assert profiles.linked_conversations("rest", "a") == []
    assert profiles.link("rest", "c", phone="12345", email="a@b") is None
    assert profiles.customer_of("rest", "c") is None
    assert profiles.linked_conversations("rest", "nobody") == []


def test_phone_of_one_customer_and_email_of_another_merge_them(profiles):
    by_phone = profiles.link("facebook", "psid", phone="0912345678")
    by_email = profiles.link("zalo", "zid", email="lan@shop.vn")
    assert by_phone != by_email
    merged = profiles.link("widget", "web", phone="+84 912 345 678", email="LAN@shop.vn")
    assert merged == min(by_phone, by_email)
    assert sorted(profiles.linked_conversations("widget", "web")) == [
        ("facebook", "psid"), ("zalo", "zid")]
    # Both contacts stay with the merged customer: a fourth channel finds it by either.
    assert profiles.link("rest", "r-email", email="lan@shop.vn") == merged
    assert profiles.link("rest", "r-phone", phone="0912345678") == merged


def test_a_second_contact_in_the_same_conversation_joins_its_owner(profiles):
    """Whatever one conversation gives belongs to one person: an email given after the
    phone links the customers known by either."""
    by_email = profiles.link("facebook", "psid", email="lan@shop.vn")
    mine = profiles.link("widget", "web", phone="0912345678")
    assert mine != by_email
    assert profiles.link("widget", "web", email="lan@shop.vn") == min(mine, by_email)
    assert profiles.linked_conversations("facebook", "psid") == [("widget", "web")]
    # Giving the same number again changes nothing.
    assert profiles.link("widget", "web", phone="0912345678") == min(mine, by_email)
    assert profiles.linked_conversations("widget", "web") == [("facebook", "psid")]


def test_links_are_committed_for_another_process(tmp_path):
    url = f"sqlite:///{tmp_path / 'hotro.db'}"
    CustomerProfiles(TicketStore(url).engine).link("rest", "a", phone="0912345678")
    fresh = CustomerProfiles(TicketStore(url).engine)  # as another process would open it
    assert fresh.link("zalo", "b", phone="0912345678") == fresh.customer_of("rest", "a")
