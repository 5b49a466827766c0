"""Writes on accounts, API keys and phone numbers. Keyword-only, one transaction each."""

import secrets
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import (
    Account,
    ApiKey,
    IncomingPhoneNumber,
    Membership,
    Referral,
    hash_secret,
    new_auth_token,
)
from accounts.selectors import ensure_may_act
from marketplace import codes, outbound
from marketplace.errors import Conflict, InvalidParameter, MarketplaceError, NotFound


@transaction.atomic
def create_account(*, friendly_name, is_publisher=False, auth_token=None) -> Account:
    if not friendly_name or not friendly_name.strip():
        raise InvalidParameter("An account needs a non-empty friendly name", param="FriendlyName")
    account = Account(friendly_name=friendly_name.strip(), is_publisher=is_publisher)
    if auth_token:
        account.auth_token = auth_token
    account.save()
    return account


@transaction.atomic
def rotate_auth_token(*, account, grace=timedelta(hours=24)) -> str:
    """A new primary auth token; the old one keeps working for `grace`, then stops.

    The new token signs everything from now on (webhooks, publisher requests).
    """
    account = Account.objects.select_for_update().get(pk=account.pk)
    account.secondary_auth_token = account.auth_token if grace.total_seconds() > 0 else ""
    account.secondary_auth_token_expires = timezone.now() + grace if grace.total_seconds() > 0 else None
    account.auth_token = new_auth_token()
    account.save(update_fields=["auth_token", "secondary_auth_token", "secondary_auth_token_expires", "date_updated"])
    return account.auth_token


@transaction.atomic
def create_api_key(*, account, friendly_name="") -> tuple[ApiKey, str]:
    """A new key and its secret; the secret is shown this once and only its hash is kept."""
    secret = secrets.token_urlsafe(32)
    key = ApiKey.objects.create(account=account, friendly_name=friendly_name, secret_hash=hash_secret(secret))
    return key, secret


@transaction.atomic
def add_member(*, account, user, role=Membership.Role.OWNER) -> Membership:
    membership, _ = Membership.objects.get_or_create(account=account, user=user, defaults={"role": role})
    return membership


_PHONE_FIELDS = ("friendly_name", "sms_url", "sms_method", "voice_url", "voice_method")
_WEBHOOK_PARAMS = {"sms_url": "SmsUrl", "voice_url": "VoiceUrl"}


def _check_webhooks(fields):
    """The outbound policy for the number's webhooks, here so the API and the console (and
    anything else that saves a number) apply the same check."""
    for name, param in _WEBHOOK_PARAMS.items():
        if fields.get(name):
            outbound.check_url(fields[name], param=param)


@transaction.atomic
def create_phone_number(*, account, phone_number, **fields) -> IncomingPhoneNumber:
    """Register one of the customer's numbers (E.164, checked by the caller)."""
    ensure_may_act(account, refused="it cannot add phone numbers")
    values = {k: v for k, v in fields.items() if k in _PHONE_FIELDS and v is not None}
    values.setdefault("friendly_name", phone_number)
    _check_webhooks(values)
    if IncomingPhoneNumber.objects.filter(phone_number=phone_number).exists():
        raise Conflict(f"Phone number {phone_number} is already registered", param="PhoneNumber")
    try:
        with transaction.atomic():
            return IncomingPhoneNumber.objects.create(account=account, phone_number=phone_number, **values)
    except IntegrityError:  # a concurrent registration of the same number won
        raise Conflict(f"Phone number {phone_number} is already registered", param="PhoneNumber")


@transaction.atomic
def update_phone_number(*, phone_number, **fields) -> IncomingPhoneNumber:
    changed = [k for k, v in fields.items() if k in _PHONE_FIELDS and v is not None]
    _check_webhooks({name: fields[name] for name in changed})
    for name in changed:
        setattr(phone_number, name, fields[name])
    if changed:
        phone_number.save(update_fields=changed + ["date_updated"])
    return phone_number


@transaction.atomic
def delete_phone_number(*, phone_number) -> None:
    phone_number.delete()


@transaction.atomic
def convert_referral(*, referrer, referred_sid) -> Referral:
    """Record that `referrer` (a publisher) referred the account `referred_sid`, which converted.
    Reporting the same conversion again returns it; an account converts for one referrer only."""
    if not referrer.is_publisher:
        raise MarketplaceError(
            "Only publisher (partner) accounts report referral conversions", code=codes.FORBIDDEN, status=403
        )
    referred = Account.objects.filter(sid=referred_sid).first()
    if referred is None:
        raise NotFound(f"No account has the SID {referred_sid}")
    if referred.pk == referrer.pk:
        raise InvalidParameter("An account cannot refer itself", param="referral_account_sid")
    if not referred.is_active:
        raise InvalidParameter(f"Account {referred_sid} is not active", param="referral_account_sid")
    referral, created = Referral.objects.select_for_update().get_or_create(
        referred=referred, defaults={"referrer": referrer}
    )
    if not created and referral.referrer_id != referrer.pk:
        raise Conflict(f"Account {referred_sid} already converted for another referrer")
    return referral
