"""Recordings: store an upload and queue its add-ons' results; delete what the customer deletes."""

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.selectors import ensure_may_act
from addons.models import InstalledAddOn, InstalledExtension
from billing import services as billing
from marketplace.errors import InvalidParameter
from recordings import queue
from recordings.audio import read_wav
from recordings.models import AddOnResult, Payload, Recording
from recordings.services.results import INTEGRATION_POINT, OPEN, hold_key, removed_unless_committed, time_allowed


def create_recording(*, account, audio):
    """Store an uploaded WAV and queue one result per recording add-on of the account."""
    ensure_may_act(account, refused="it cannot upload recordings")
    if audio is None:
        raise InvalidParameter("Required parameter 'Audio' is missing: upload the WAV file as 'Audio'", param="Audio")
    if audio.size > settings.RECORDING_MAX_BYTES:
        raise InvalidParameter(f"Parameter 'Audio' is larger than {settings.RECORDING_MAX_BYTES} bytes", param="Audio")
    info = read_wav(audio)
    recording = Recording(
        account=account,
        duration_ms=info.duration_ms,
        channels=info.channels,
        sample_rate=info.sample_rate,
        mimetype=info.mimetype,
        size=info.size,
    )
    with removed_unless_committed(recording.audio), transaction.atomic():
        recording.audio.save(f"{recording.sid}.wav", audio, save=False)
        recording.save()
        results = _queue_results(recording)
        for result in results:
            queue.enqueue_on_commit("recordings.tasks.deliver_to_publisher", result.sid)
    return recording


def _queue_results(recording):
    enabled = InstalledExtension.objects.filter(extension__unique_name=INTEGRATION_POINT, enabled=True).values(
        "installation_id"
    )
    installations = InstalledAddOn.objects.filter(account=recording.account, id__in=enabled).select_related("listing")
    deadline = timezone.now() + time_allowed(recording)
    results = [
        AddOnResult(
            account=recording.account,
            recording=recording,
            installation=installation,
            listing=installation.listing,
            installation_sid=installation.sid,
            date_deadline=deadline,
        )
        for installation in installations.order_by("id")
    ]
    return AddOnResult.objects.bulk_create(results)


def _release_open_holds(results):
    """Results deleted while open will never be charged: what they held is given back."""
    for sid in results.filter(status__in=OPEN).values_list("sid", flat=True):
        billing.release_hold(key=hold_key(sid))


@transaction.atomic
def delete_recording(*, recording):
    _release_open_holds(AddOnResult.objects.filter(recording=recording))
    for payload in Payload.objects.filter(add_on_result__recording=recording):
        payload.data.delete(save=False)
    recording.audio.delete(save=False)
    recording.delete()


@transaction.atomic
def delete_result(*, result):
    _release_open_holds(AddOnResult.objects.filter(pk=result.pk))
    for payload in result.payloads.all():
        payload.data.delete(save=False)
    result.delete()


@transaction.atomic
def delete_payload(*, payload):
    payload.data.delete(save=False)
    payload.delete()
