import json
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError

from accounts import services
from accounts.models import Account
from marketplace.sids import normalize_sid


class Command(BaseCommand):
    help = "Give an account a new auth token; the old one keeps working for a grace period."

    def add_arguments(self, parser):
        parser.add_argument("--account", required=True, help="the account's SID (AC...)")
        parser.add_argument("--grace-hours", type=float, default=24.0, help="how long the old token still works")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, account, grace_hours, **options):
        sid = normalize_sid(account, "AC")
        found = Account.objects.filter(sid=sid).first() if sid else None
        if found is None:
            raise CommandError(f"--account {account}: no such account")
        if grace_hours < 0:
            raise CommandError("--grace-hours must not be negative")
        token = services.rotate_auth_token(account=found, grace=timedelta(hours=grace_hours))
        found.refresh_from_db()
        expires = found.secondary_auth_token_expires
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "sid": found.sid,
                        "auth_token": token,
                        "previous_token_expires": expires.isoformat() if expires else None,
                    }
                )
            )
        else:
            self.stdout.write(f"New auth token for {found.sid}: {token}")
            self.stdout.write(
                f"The previous token works until {expires:%Y-%m-%d %H:%M} UTC"
                if expires
                else "The previous token no longer works"
            )
