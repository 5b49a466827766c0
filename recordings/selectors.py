from marketplace.errors import NotFound
from recordings.models import AddOnResult, Payload, Recording


def recordings(account):
    return Recording.objects.filter(account=account).select_related("account")


def recording(account, sid):
    found = recordings(account).filter(sid=sid).first()
    if found is None:
        raise NotFound(f"Recording {sid} was not found")
    return found


def results(recording):
    return AddOnResult.objects.filter(recording=recording).select_related(
        "account", "recording", "recording__account", "listing"
    )


def result(recording, sid):
    found = results(recording).filter(sid=sid).first()
    if found is None:
        raise NotFound(f"AddOnResult {sid} was not found")
    return found


def payloads(result):
    return Payload.objects.filter(add_on_result=result).select_related(
        "add_on_result__account", "add_on_result__recording__account", "add_on_result__listing"
    )


def payload(result, sid):
    found = payloads(result).filter(sid=sid).first()
    if found is None:
        raise NotFound(f"Payload {sid} was not found")
    return found
