from marketplace.selectors import one
from recordings.models import AddOnResult, Payload, Recording


def recordings(account):
    return Recording.objects.filter(account=account).select_related("account")


def recording(account, sid):
    return one(recordings(account), sid, "Recording")


def results(recording):
    return AddOnResult.objects.filter(recording=recording).select_related(
        "account", "recording", "recording__account", "listing"
    )


def result(recording, sid):
    return one(results(recording), sid, "AddOnResult")


def payloads(result):
    return Payload.objects.filter(add_on_result=result).select_related(
        "add_on_result__account", "add_on_result__recording__account", "add_on_result__listing"
    )


def payload(result, sid):
    return one(payloads(result), sid, "Payload")
