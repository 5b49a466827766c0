from django.db import IntegrityError, transaction

from addons.models import Assignment
from marketplace.errors import Conflict, NotFound


@transaction.atomic
def assign_add_on(*, phone_number, installation):
    """Run this installation on the number's inbound traffic. Both belong to one account."""
    if installation.account_id != phone_number.account_id:
        # Callers resolve both within the caller's account; this is the last guard.
        raise NotFound(f"InstalledAddOn {installation.sid} was not found", param="InstalledAddOnSid")
    conflict = Conflict(
        f"Parameter 'InstalledAddOnSid': {installation.sid} is already assigned to {phone_number.phone_number}",
        param="InstalledAddOnSid",
    )
    if Assignment.objects.filter(phone_number=phone_number, installation=installation).exists():
        raise conflict
    try:
        with transaction.atomic():
            return Assignment.objects.create(phone_number=phone_number, installation=installation)
    except IntegrityError:
        raise conflict


@transaction.atomic
def unassign_add_on(*, assignment):
    assignment.delete()
