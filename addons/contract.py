"""The publisher contract's vocabulary, defined once: pricing models, listing states and the
SLA figures (addon-publisher-guide). Models, manifest checks, the engine, billing and the
console all read them from here. Pure: no database, importable before Django is set up."""

from django.db import models


class PricingModel(models.TextChoices):
    PER_USE = "per_use"
    PER_SUCCESS = "per_success"
    PER_MINUTE = "per_minute"
    MANUAL = "manual"


# Priced by the call (a hold before, a charge after), as opposed to by minute or by report.
PRICED_PER_CALL = (PricingModel.PER_USE, PricingModel.PER_SUCCESS)


class ListingState(models.TextChoices):
    DRAFT = "draft"
    MARKETING_PREVIEW = "marketing_preview"
    PRIVATE_BETA = "private_beta"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    RETIRED = "retired"


# The states in which a listing is live: invoked for its installations, usage reportable.
LIVE_STATES = (ListingState.MARKETING_PREVIEW, ListingState.PRIVATE_BETA, ListingState.ACTIVE)

# Synchronous add-ons: average about 200 ms, p99 under 1500 ms; beyond 2000 ms the call fails.
SLA_TARGET_AVERAGE_MS = 200
SLA_TARGET_P99_MS = 1500
SYNC_DEADLINE_MS = 2000
