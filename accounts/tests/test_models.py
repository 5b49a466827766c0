"""Model invariants: SIDs, credentials, and the constraints the database itself enforces."""

import re

import pytest
from django.db import IntegrityError, transaction

from accounts import services as account_services
from accounts.models import Account, IncomingPhoneNumber
from addons.models import Assignment, InstalledAddOn
from marketplace.errors import InvalidParameter
from marketplace.sids import PREFIXES, new_sid, normalize_sid


@pytest.mark.parametrize("prefix", sorted(PREFIXES))
def test_new_sids_are_two_letters_and_32_lowercase_hex(prefix):
    sid = new_sid(prefix)
    assert re.fullmatch(rf"{prefix}[0-9a-f]{{32}}", sid)
    assert sid != new_sid(prefix)


def test_unknown_prefix_is_a_programming_error():
    with pytest.raises(ValueError):
        new_sid("ZZ")


@pytest.mark.parametrize(
    "value,expected",
    [
        ("AC" + "ab" * 16, "AC" + "ab" * 16),
        ("AC" + "AB" * 16, "AC" + "ab" * 16),
        ("ac" + "ab" * 16, None),
        ("AC" + "ab" * 15, None),
        ("AC" + "zz" * 16, None),
        ("SK" + "ab" * 16, None),
        (None, None),
        (123, None),
    ],
)
def test_normalize_sid(value, expected):
    assert normalize_sid(value, "AC") == expected


def test_sids_are_unique_in_the_database(customer):
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.create(sid=customer.sid, friendly_name="Clone")


def test_every_model_gets_its_prefix(customer, install, listing, api):
    installed = InstalledAddOn.objects.get(sid=install(listing)["sid"])
    assert customer.sid.startswith("AC")
    assert listing.sid.startswith("XB") and listing.latest_version.sid.startswith("XC")
    assert listing.extensions.first().sid.startswith("XF")
    assert installed.sid.startswith("XE") and installed.install_sid.startswith("XD")


def test_auth_token_comparison(customer):
    assert customer.check_auth_token(customer.auth_token)
    assert not customer.check_auth_token(customer.auth_token[:-1])
    assert not customer.check_auth_token("")


def test_api_key_secret_is_checked_against_its_hash(customer):
    key, secret = account_services.create_api_key(account=customer)
    assert key.check_secret(secret) and not key.check_secret(secret.upper() + "x")
    assert len(key.secret_hash) == 64 and secret not in key.secret_hash


def test_installation_names_are_unique_per_account_in_the_database(customer, install, listing):
    installed = InstalledAddOn.objects.get(sid=install(listing)["sid"])
    with pytest.raises(IntegrityError), transaction.atomic():
        InstalledAddOn.objects.create(
            account=customer,
            listing=listing,
            version=listing.latest_version,
            unique_name=installed.unique_name,
            terms_accepted_at=installed.terms_accepted_at,
        )


def test_a_phone_number_has_one_owner_in_the_database(customer, other_customer):
    IncomingPhoneNumber.objects.create(account=customer, phone_number="+14155552671")
    with pytest.raises(IntegrityError), transaction.atomic():
        IncomingPhoneNumber.objects.create(account=other_customer, phone_number="+14155552671")


def test_an_assignment_is_unique_in_the_database(customer, install, listing):
    number = IncomingPhoneNumber.objects.create(account=customer, phone_number="+14155552671")
    installed = InstalledAddOn.objects.get(sid=install(listing)["sid"])
    Assignment.objects.create(phone_number=number, installation=installed)
    with pytest.raises(IntegrityError), transaction.atomic():
        Assignment.objects.create(phone_number=number, installation=installed)


def test_create_account_needs_a_name(db):
    with pytest.raises(InvalidParameter):
        account_services.create_account(friendly_name="  ")
    assert Account.objects.count() == 0
