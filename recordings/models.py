from django.db import models

from accounts.models import Account
from addons.models import InstalledAddOn, Invocation, Listing
from marketplace.sids import SidField


def audio_path(recording, filename):
    return f"recordings/{recording.account.sid}/{recording.sid}.wav"


def payload_path(payload, filename):
    return f"payloads/{payload.add_on_result.account.sid}/{payload.add_on_result.sid}/{payload.sid}"


class Recording(models.Model):
    """A call recording (RE); its audio lives in Django's storage."""

    sid = SidField("RE")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="recordings")
    audio = models.FileField(upload_to=audio_path, max_length=255)
    duration_ms = models.PositiveIntegerField()
    channels = models.PositiveSmallIntegerField()
    sample_rate = models.PositiveIntegerField()
    mimetype = models.CharField(max_length=64, default="audio/x-wav")
    size = models.PositiveBigIntegerField()
    date_created = models.DateTimeField(auto_now_add=True)
    date_updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["account", "id"], name="re_account_id")]

    def __str__(self):
        return self.sid


class AddOnResult(models.Model):
    """One recording add-on's analysis of one recording (XR, the request SID of its call).

    queued -> processing (the publisher accepted) -> completed | failed. The callback URL is
    one-time: the first valid use claims the result; any later one is refused.
    """

    class Status(models.TextChoices):
        QUEUED = "queued"
        PROCESSING = "processing"
        COMPLETED = "completed"
        FAILED = "failed"

    class CustomerNotification(models.TextChoices):
        NOT_YET = "", "not yet due"  # the result is still open
        PENDING = "pending"  # owed: set with the terminal state, so a lost task is found again
        DELIVERED = "delivered"
        UNDELIVERABLE = "undeliverable"  # every attempt failed; a 61031 alert says so
        NOT_REQUESTED = "not_requested"  # the installation has no callback_url

    TERMINAL = (Status.COMPLETED, Status.FAILED)

    sid = SidField("XR")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="add_on_results")
    recording = models.ForeignKey(Recording, on_delete=models.CASCADE, related_name="add_on_results")
    installation = models.ForeignKey(
        InstalledAddOn, null=True, blank=True, on_delete=models.SET_NULL, related_name="add_on_results"
    )
    listing = models.ForeignKey(Listing, on_delete=models.PROTECT, related_name="add_on_results")
    # Kept for the API after an uninstall, like Twilio's add_on_configuration_sid.
    installation_sid = models.CharField(max_length=34)
    invocation = models.OneToOneField(
        Invocation, null=True, blank=True, on_delete=models.SET_NULL, related_name="add_on_result"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    error_code = models.PositiveIntegerField(null=True, blank=True)
    error_message = models.TextField(blank=True)
    # When a worker last took the result to send it; a lease, so a dead worker's is retaken.
    date_dispatched = models.DateTimeField(null=True, blank=True)
    # Set by the first valid callback, which alone may complete the result.
    callback_claimed_at = models.DateTimeField(null=True, blank=True)
    date_deadline = models.DateTimeField(null=True, blank=True, db_index=True)
    date_completed = models.DateTimeField(null=True, blank=True)
    # Started minutes of audio to bill; set on completion only.
    billable_minutes = models.PositiveIntegerField(default=0)
    customer_notification = models.CharField(
        max_length=16, choices=CustomerNotification.choices, default=CustomerNotification.NOT_YET, blank=True
    )
    # Attempts made at the customer's callback_url; the next one is not before this (set to the
    # attempt's lease while one runs). Retries are scheduled, never slept on in a worker.
    notify_attempts = models.PositiveSmallIntegerField(default=0)
    date_notify_due = models.DateTimeField(null=True, blank=True)
    date_created = models.DateTimeField(auto_now_add=True)
    date_updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["recording", "id"], name="xr_recording_id"),
            # The sweep: open results past their deadline, or stalled in the queue.
            models.Index(fields=["status", "date_deadline"], name="xr_status_deadline"),
            # The sweep: notifications owed whose task was lost.
            models.Index(fields=["customer_notification", "date_completed"], name="xr_notification_completed"),
        ]

    def __str__(self):
        return f"{self.sid} {self.status}"


class Payload(models.Model):
    """A stored piece of an add-on result (XH)."""

    sid = SidField("XH")
    add_on_result = models.ForeignKey(AddOnResult, on_delete=models.CASCADE, related_name="payloads")
    label = models.CharField(max_length=64)
    content_type = models.CharField(max_length=128)
    data = models.FileField(upload_to=payload_path, max_length=255)
    size = models.PositiveBigIntegerField()
    date_created = models.DateTimeField(auto_now_add=True)
    date_updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["add_on_result", "id"], name="xh_result_id")]

    def __str__(self):
        return self.sid
