import re

from django.db.models import Q

from accounts.models import Account, IncomingPhoneNumber
from marketplace.errors import AccountNotActive, InvalidParameter
from marketplace.selectors import one

# The one rule for "may this account act": only an active account calls the API, writes in
# the console, has its add-ons called or its recordings sent. A suspended or closed account
# keeps its data and may still read it in the console.
ACTING_STATUSES = (Account.Status.ACTIVE,)


def may_act(account) -> bool:
    return account.status in ACTING_STATUSES


def ensure_may_act(account, *, refused="its requests are refused"):
    """AccountNotActive (20005) unless the account may act; `refused` says what was refused."""
    if not may_act(account):
        raise AccountNotActive(f"Account {account.sid} is {account.status}; {refused}")


def acting(field="") -> Q:
    """may_act as a query filter, on the account at `field` ("publisher", say)."""
    return Q(**{f"{field}__status__in" if field else "status__in": ACTING_STATUSES})


def phone_numbers(account):
    return IncomingPhoneNumber.objects.filter(account=account).select_related("account")


# Every number here is the customer's own, registered with us: Twilio calls that `hosted`.
ORIGIN = "hosted"
_FORMATTING = re.compile(r"[\s().-]")
_FRAGMENT = re.compile(r"^\+?[0-9*]{1,20}$")


def accounts_of(user):
    """The accounts a console user is a member of."""
    return Account.objects.filter(memberships__user=user).order_by("id")


def account_of(user, sid):
    """One of the user's accounts by its SID, or None."""
    return accounts_of(user).filter(sid=sid).first() if sid else None


def phone_numbers_with_assignments(account):
    """The account's numbers with what is assigned to each, as the console lists them."""
    return phone_numbers(account).prefetch_related("assignments__installation").order_by("id")


def phone_numbers_matching(account, *, phone_number=None, friendly_name=None, origin=None):
    """The account's numbers, filtered as Twilio's IncomingPhoneNumbers list is: `phone_number`
    a fragment of the number (a leading `+` anchors it at the start; `*` is any one digit),
    `friendly_name` exactly, `origin` `twilio` or `hosted`."""
    numbers = phone_numbers(account)
    if phone_number is not None:
        numbers = numbers.filter(phone_number__regex=_fragment_regex(phone_number))
    if friendly_name is not None:
        numbers = numbers.filter(friendly_name=friendly_name)
    if origin is not None and origin != ORIGIN:
        numbers = numbers.none()
    return numbers


def _fragment_regex(fragment):
    digits = _FORMATTING.sub("", fragment)
    if not _FRAGMENT.match(digits):
        raise InvalidParameter(
            "Parameter 'PhoneNumber' must be a number or part of one: digits, '*' for any digit, and a leading '+'",
            param="PhoneNumber",
        )
    anchored = digits.startswith("+")
    pattern = "".join("[0-9]" if c == "*" else c for c in digits.lstrip("+"))
    return ("^\\+" if anchored else "") + pattern


def phone_number(account, sid):
    return one(phone_numbers(account), sid, "IncomingPhoneNumber")
