import re

from accounts.models import IncomingPhoneNumber
from marketplace.errors import InvalidParameter
from marketplace.selectors import one


def phone_numbers(account):
    return IncomingPhoneNumber.objects.filter(account=account).select_related("account")


# Every number here is the customer's own, registered with us: Twilio calls that `hosted`.
ORIGIN = "hosted"
_FORMATTING = re.compile(r"[\s().-]")
_FRAGMENT = re.compile(r"^\+?[0-9*]{1,20}$")


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
            "Parameter 'PhoneNumber' must be a number or part of one: digits, '*' for any digit, "
            "and a leading '+'",
            param="PhoneNumber",
        )
    anchored = digits.startswith("+")
    pattern = "".join("[0-9]" if c == "*" else c for c in digits.lstrip("+"))
    return ("^\\+" if anchored else "") + pattern


def phone_number(account, sid):
    return one(phone_numbers(account), sid, "IncomingPhoneNumber")
