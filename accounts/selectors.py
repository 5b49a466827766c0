from accounts.models import IncomingPhoneNumber
from marketplace.errors import NotFound


def phone_numbers(account):
    return IncomingPhoneNumber.objects.filter(account=account).select_related("account")


def phone_number(account, sid):
    found = phone_numbers(account).filter(sid=sid).first()
    if found is None:
        raise NotFound(f"IncomingPhoneNumber {sid} was not found")
    return found
