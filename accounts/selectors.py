from django.db.models import Q

from accounts.models import Account, IncomingPhoneNumber
from marketplace.errors import AccountNotActive
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


def phone_number(account, sid):
    return one(phone_numbers(account), sid, "IncomingPhoneNumber")
