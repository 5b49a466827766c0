from accounts.models import IncomingPhoneNumber
from marketplace.selectors import one


def phone_numbers(account):
    return IncomingPhoneNumber.objects.filter(account=account).select_related("account")


def phone_number(account, sid):
    return one(phone_numbers(account), sid, "IncomingPhoneNumber")
