from django.conf import settings
from django.db import models

from accounts.models import Account, IncomingPhoneNumber
from addons.contract import ListingState, PricingModel  # noqa: F401 (PricingModel: imported from here too)
from marketplace.sids import SidField


class AddOnType(models.TextChoices):
    PHONE_NUMBER = "phone_number"
    MESSAGE_ANALYSIS = "message_analysis"
    RECORDING_ANALYSIS = "recording_analysis"


# The integration points: extension unique_name -> (product_name, friendly_name).
INTEGRATION_POINTS = {
    "lookups": ("Lookups", "Lookups"),
    "incoming-sms": ("Programmable Messaging", "Incoming SMS"),
    "incoming-voice": ("Programmable Voice", "Incoming Voice Call"),
    "recordings": ("Programmable Voice", "Recording Analysis"),
}


class Listing(models.Model):
    """An add-on as the catalog shows it (Twilio's AvailableAddOn, XB)."""

    State = ListingState

    sid = SidField("XB")
    publisher = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="listings")
    unique_name = models.SlugField(max_length=64, unique=True)
    friendly_name = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    # Blank only for a listing created through the publisher API before its first manifest.
    type = models.CharField(max_length=32, choices=AddOnType.choices, blank=True)
    pricing_type = models.CharField(max_length=16, choices=PricingModel.choices, blank=True)
    state = models.CharField(max_length=32, choices=State.choices, default=State.DRAFT, db_index=True)
    # The catalog page's sections, managed through the publisher API (/v1/Listing/{XB}):
    # module_info, description, documentation, policies, support, configuration, pricing.
    content = models.JSONField(default=dict, blank=True)
    beta_accounts = models.ManyToManyField(Account, blank=True, related_name="beta_listings")
    # The version new installations get; older installations stay pinned to theirs.
    latest_version = models.ForeignKey(
        "ListingVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    date_created = models.DateTimeField(auto_now_add=True)
    date_updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        # The catalog pages on (state, id): active listings by keyset.
        indexes = [models.Index(fields=["state", "id"], name="xb_state_id")]

    def __str__(self):
        return self.unique_name


class ListingStateChange(models.Model):
    """The moderation audit log: who moved a listing from which state to which, and why."""

    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="state_changes")
    from_state = models.CharField(max_length=32, choices=Listing.State.choices)
    to_state = models.CharField(max_length=32, choices=Listing.State.choices)
    reason = models.TextField()
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    date_created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        return f"{self.listing.unique_name}: {self.from_state} -> {self.to_state}"


class ListingVersion(models.Model):
    """What changes per release (XC): schemas, the publisher endpoint, pricing."""

    sid = SidField("XC")
    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    configuration_schema = models.JSONField(default=dict)
    request_validation_schema = models.JSONField(null=True, blank=True)
    response_validation_schema = models.JSONField(null=True, blank=True)
    endpoint = models.JSONField()
    pricing = models.JSONField()
    runtime_fields = models.JSONField(default=list, blank=True)
    extensions = models.ManyToManyField("Extension", related_name="versions")
    # The manifest as imported (defaults filled in), for the publisher's own reference.
    manifest = models.JSONField()
    date_created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["listing", "number"], name="unique_listing_version")]

    def __str__(self):
        return f"{self.listing.unique_name} v{self.number}"


class Extension(models.Model):
    """An integration point a listing supports (XF)."""

    sid = SidField("XF")
    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="extensions")
    unique_name = models.CharField(max_length=32)
    product_name = models.CharField(max_length=64)
    friendly_name = models.CharField(max_length=255)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["listing", "unique_name"], name="unique_listing_extension")]

    def __str__(self):
        return f"{self.listing.unique_name}/{self.unique_name}"


class BillableItem(models.Model):
    """An item a manual-pricing publisher reports usage against (BI); stable across versions."""

    sid = SidField("BI")
    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="billable_items")
    name = models.CharField(max_length=128)
    date_created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["listing", "name"], name="unique_billable_item")]

    def __str__(self):
        return f"{self.listing.unique_name}:{self.name}"


class InstalledAddOn(models.Model):
    """An account's installation of a listing, pinned to a version (XE; its install is XD)."""

    sid = SidField("XE")
    install_sid = SidField("XD")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="installed_add_ons")
    listing = models.ForeignKey(Listing, on_delete=models.PROTECT, related_name="installations")
    version = models.ForeignKey(ListingVersion, on_delete=models.PROTECT, related_name="installations")
    unique_name = models.CharField(max_length=64)
    configuration = models.JSONField(default=dict)
    terms_accepted_at = models.DateTimeField()
    date_created = models.DateTimeField(auto_now_add=True)
    date_updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["account", "unique_name"], name="unique_installation_name"),
        ]
        indexes = [models.Index(fields=["account", "id"], name="xe_account_id")]

    def __str__(self):
        return f"{self.unique_name} ({self.sid})"


class InstalledExtension(models.Model):
    """Whether one integration point of an installation is switched on."""

    installation = models.ForeignKey(InstalledAddOn, on_delete=models.CASCADE, related_name="installed_extensions")
    extension = models.ForeignKey(Extension, on_delete=models.PROTECT, related_name="+")
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["installation", "extension"], name="unique_installed_extension"),
        ]

    def __str__(self):
        # Ids, not the related rows: a list of these must not cost a query per row.
        return f"installation {self.installation_id} / extension {self.extension_id}: {'on' if self.enabled else 'off'}"


class Assignment(models.Model):
    """An installation assigned to a phone number (Twilio's AssignedAddOn)."""

    phone_number = models.ForeignKey(IncomingPhoneNumber, on_delete=models.CASCADE, related_name="assignments")
    installation = models.ForeignKey(InstalledAddOn, on_delete=models.CASCADE, related_name="assignments")
    date_created = models.DateTimeField(auto_now_add=True)
    date_updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["phone_number", "installation"], name="unique_assignment"),
        ]
        indexes = [models.Index(fields=["phone_number", "id"], name="assignment_pn_id")]

    def __str__(self):
        return f"installation {self.installation_id} on number {self.phone_number_id}"


class Invocation(models.Model):
    """One call (or refused call) of a publisher for one event (XR, the request SID).

    Credentials and the signature are redacted from `request` before it is stored.
    """

    class Status(models.TextChoices):
        SUCCESSFUL = "successful"
        FAILED = "failed"

    sid = SidField("XR")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="invocations")
    installation = models.ForeignKey(
        InstalledAddOn, null=True, blank=True, on_delete=models.SET_NULL, related_name="invocations"
    )
    listing = models.ForeignKey(Listing, on_delete=models.PROTECT, related_name="invocations")
    version = models.ForeignKey(ListingVersion, on_delete=models.PROTECT, related_name="invocations")
    integration_point = models.CharField(max_length=32)
    # The event that caused it: a message (SM), call (CA) or recording (RE); blank for Lookups.
    resource_sid = models.CharField(max_length=34, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices)
    outcome = models.CharField(max_length=32)
    error_code = models.PositiveIntegerField(null=True, blank=True)
    error_message = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    response_bytes = models.PositiveIntegerField(null=True, blank=True)
    sla_breach = models.BooleanField(default=False)
    billable = models.BooleanField(default=False)
    # A publisher's test invocation: never billed, never in the SLA figures.
    is_test = models.BooleanField(default=False)
    request = models.JSONField(default=dict)
    result = models.JSONField(null=True, blank=True)
    date_created = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["listing", "is_test", "date_created"], name="xr_listing_date"),
            models.Index(fields=["account", "id"], name="xr_account_id"),
        ]

    def __str__(self):
        return f"{self.sid} {self.outcome}"


class Notification(models.Model):
    """A debugger entry (NO) for one account: a customer's or a publisher's view of a failure."""

    class Level(models.TextChoices):
        WARNING = "warning"
        ERROR = "error"

    sid = SidField("NO")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="notifications")
    log_level = models.CharField(max_length=8, choices=Level.choices)
    error_code = models.PositiveIntegerField()
    message = models.TextField()
    # What it is about: usually the invocation (XR); the installation or message otherwise.
    resource_sid = models.CharField(max_length=34, blank=True)
    request_method = models.CharField(max_length=8, blank=True)
    request_url = models.CharField(max_length=1000, blank=True)
    date_created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["account", "id"], name="no_account_id"),
            models.Index(fields=["account", "log_level", "id"], name="no_account_level_id"),
        ]

    def __str__(self):
        return f"{self.sid} {self.error_code}"
