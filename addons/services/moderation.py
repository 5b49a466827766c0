"""Staff moderation of listings: the listing state machine and its audit log.

    draft -> marketing_preview -> private_beta -> active      (one step forward at a time)
    active <-> suspended
    any state -> retired                                       (final: nothing leaves it)

Every move writes the new state and a ListingStateChange (who, when, from, to, why) in one
transaction, holding the listing's row lock, so two staff acting at once cannot both move it
from the same state: the second one sees the state the first one left.
"""

from django.db import transaction

from addons.models import Listing, ListingStateChange
from marketplace import codes
from marketplace.errors import InvalidParameter, MarketplaceError

State = Listing.State

TRANSITIONS = {
    State.DRAFT: (State.MARKETING_PREVIEW, State.RETIRED),
    State.MARKETING_PREVIEW: (State.PRIVATE_BETA, State.RETIRED),
    State.PRIVATE_BETA: (State.ACTIVE, State.RETIRED),
    State.ACTIVE: (State.SUSPENDED, State.RETIRED),
    State.SUSPENDED: (State.ACTIVE, State.RETIRED),
    State.RETIRED: (),
}

# States in which customers can install the listing: it needs a version to install.
NEEDS_VERSION = frozenset({State.PRIVATE_BETA, State.ACTIVE})


class InvalidTransition(MarketplaceError):
    """The listing cannot move from its current state to the one asked for."""

    code = codes.CONFLICT
    status = 409


def next_states(listing) -> list[str]:
    """The states the listing may move to now (a listing without a version cannot become
    installable), in the order of TRANSITIONS."""
    return [
        state
        for state in TRANSITIONS.get(listing.state, ())
        if not (state in NEEDS_VERSION and listing.latest_version_id is None)
    ]


@transaction.atomic
def set_listing_state(*, listing, to_state, reason, user, from_state=None) -> ListingStateChange:
    """Move a listing to another state and log who did it, when, from which state, and why.

    `from_state`, when given, is the state the caller saw: the move is refused if the listing
    has left it meanwhile. Updates `listing` in place and returns the log entry.
    """
    if to_state not in State.values:
        raise InvalidParameter(f"State must be one of {', '.join(State.values)}", param="to_state")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidParameter("A state change needs a reason", param="reason")

    locked = Listing.objects.select_for_update().get(pk=listing.pk)
    current = locked.state
    if from_state is not None and from_state != current:
        raise InvalidTransition(
            f"Listing {locked.unique_name} moved from {from_state} to {current} meanwhile;"
            " check its state and choose again",
            param="from_state",
        )
    allowed = TRANSITIONS.get(current, ())
    if to_state not in allowed:
        raise InvalidTransition(_refusal(locked.unique_name, current, to_state, allowed), param="to_state")
    if to_state in NEEDS_VERSION and locked.latest_version_id is None:
        raise InvalidTransition(
            f"Listing {locked.unique_name} has no version yet, so it cannot go to {to_state}:"
            " there is nothing to install. Import a manifest first.",
            param="to_state",
        )

    locked.state = to_state
    locked.save(update_fields=["state", "date_updated"])
    change = ListingStateChange.objects.create(
        listing=locked, from_state=current, to_state=to_state, reason=reason, changed_by=user
    )
    listing.state, listing.date_updated = locked.state, locked.date_updated
    return change


def _refusal(name, current, to_state, allowed):
    if not allowed:
        return f"Listing {name} is {current}, a final state: it cannot move to {to_state} or anywhere else"
    return f"Listing {name} cannot move from {current} to {to_state}; allowed next states: {', '.join(allowed)}"
