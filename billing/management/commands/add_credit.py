from django.core.management.base import BaseCommand, CommandError

from accounts.models import Account
from billing import services
from marketplace.errors import MarketplaceError
from marketplace.sids import normalize_sid


class Command(BaseCommand):
    help = "Add prepaid credit to an account (as staff do in the admin)."

    def add_arguments(self, parser):
        parser.add_argument("--account", required=True, help="the account's SID (AC...)")
        parser.add_argument("--amount", required=True, help="USD, e.g. 25 or 0.50")
        parser.add_argument("--reason", required=True)

    def handle(self, *args, account, amount, reason, **options):
        sid = normalize_sid(account, "AC")
        found = Account.objects.filter(sid=sid).first() if sid else None
        if found is None:
            raise CommandError(f"--account {account}: no such account")
        try:
            entry = services.add_credit(account=found, amount=amount, reason=reason)
        except MarketplaceError as error:
            raise CommandError(error.message)
        self.stdout.write(f"Credited {entry.amount} USD to {found.sid}; balance {services.balance_of(found)} USD")
