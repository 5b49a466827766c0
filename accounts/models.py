import hashlib
import hmac
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

from marketplace.sids import SidField


def new_auth_token():
    return secrets.token_hex(16)


def hash_secret(secret: str) -> str:
    # API key secrets are 32 random bytes: a fast hash is as strong as a slow one here.
    return hashlib.sha256(secret.encode()).hexdigest()


class Account(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active"
        SUSPENDED = "suspended"
        CLOSED = "closed"

    sid = SidField("AC")
    friendly_name = models.CharField(max_length=255)
    # Kept retrievable (not hashed): it keys the HMAC signatures the platform computes
    # for the publisher's requests and the customer's webhooks, as Twilio's does.
    auth_token = models.CharField(max_length=64, default=new_auth_token)
    # After a rotation the previous token keeps working until it expires (a grace period).
    secondary_auth_token = models.CharField(max_length=64, blank=True)
    secondary_auth_token_expires = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    is_publisher = models.BooleanField(default=False)
    date_created = models.DateTimeField(auto_now_add=True)
    date_updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"{self.friendly_name} ({self.sid})"

    @property
    def is_active(self):
        from accounts.selectors import may_act  # the one rule; selectors import this module

        return may_act(self)

    def check_auth_token(self, candidate: str) -> bool:
        if hmac.compare_digest(self.auth_token.encode(), candidate.encode()):
            return True
        return bool(
            self.secondary_auth_token
            and self.secondary_auth_token_expires is not None
            and timezone.now() < self.secondary_auth_token_expires
            and hmac.compare_digest(self.secondary_auth_token.encode(), candidate.encode())
        )


class ApiKey(models.Model):
    sid = SidField("SK")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="api_keys")
    friendly_name = models.CharField(max_length=255, blank=True)
    secret_hash = models.CharField(max_length=64)
    date_created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"{self.friendly_name or 'API key'} ({self.sid})"

    def check_secret(self, candidate: str) -> bool:
        return hmac.compare_digest(self.secret_hash, hash_secret(candidate))


class Membership(models.Model):
    """A console user belongs to one or more accounts."""

    class Role(models.TextChoices):
        OWNER = "owner"
        DEVELOPER = "developer"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.OWNER)
    date_created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "account"], name="unique_membership")]

    def __str__(self):
        return f"{self.user} in {self.account.sid}"


class IncomingPhoneNumber(models.Model):
    class Method(models.TextChoices):
        GET = "GET"
        POST = "POST"

    sid = SidField("PN")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="phone_numbers")
    # E.164; one owner platform-wide, since inbound traffic finds its account by `To`.
    phone_number = models.CharField(max_length=20, unique=True)
    friendly_name = models.CharField(max_length=64, blank=True)
    sms_url = models.URLField(max_length=1000, blank=True)
    sms_method = models.CharField(max_length=4, choices=Method.choices, default=Method.POST)
    voice_url = models.URLField(max_length=1000, blank=True)
    voice_method = models.CharField(max_length=4, choices=Method.choices, default=Method.POST)
    date_created = models.DateTimeField(auto_now_add=True)
    date_updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["account", "id"], name="pn_account_id"),
            models.Index(fields=["account", "friendly_name"], name="pn_account_name"),
        ]

    def __str__(self):
        return self.phone_number


class Referral(models.Model):
    """A referral conversion (`POST /v1/ReferralConversion`): a partner (publisher) account
    reports that an account it referred converted. An account converts for one referrer."""

    referrer = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="referrals")
    referred = models.OneToOneField(Account, on_delete=models.CASCADE, related_name="referred_by")
    date_created = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["referrer", "id"], name="referral_referrer_id")]

    def __str__(self):
        return f"{self.referred.sid} referred by {self.referrer.sid}"
