"""Load the demo: accounts, logins, and listings served by the bundled example publishers.

Idempotent: running it again changes nothing unless a bundled manifest changed (then it
releases a new version). Generated passwords and tokens are kept under var/demo/ so every
run prints the same logins.
"""

import json
import secrets
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts import services as account_services
from accounts.models import Account, IncomingPhoneNumber
from addons import credentials, services
from addons.models import InstalledAddOn, Listing
from billing import services as billing

MANIFESTS = Path(settings.BASE_DIR) / "publishers" / "manifests"
DEMO_DIR = Path(settings.VAR_DIR) / "demo"
DEMO_NUMBER = "+14155552671"
ASSIGNED_LISTING = "demo_anagram"
DEMO_CREDIT = "25"


class Command(BaseCommand):
    help = "Load the demo accounts, logins and listings (idempotent)."

    def handle(self, *args, **options):
        DEMO_DIR.mkdir(parents=True, exist_ok=True)
        secrets_file = DEMO_DIR / "credentials.json"
        saved = json.loads(secrets_file.read_text()) if secrets_file.exists() else {}

        with transaction.atomic():
            publisher = self._account("Demo Publisher", is_publisher=True)
            customer = self._account("Demo Customer", is_publisher=False)
            logins = {
                "admin": self._user("admin", saved, staff=True, accounts=(customer, publisher)),
                "customer": self._user("customer", saved, account=customer),
                "publisher": self._user("publisher", saved, account=publisher),
            }
            listings = [self._listing(path, publisher) for path in sorted(MANIFESTS.glob("*.json"))]
            if not customer.ledger.filter(kind="credit").exists():
                billing.add_credit(account=customer, amount=DEMO_CREDIT, reason="Demo credit")
            self._demo_installation(customer, listings)

        secrets_file.write_text(json.dumps({name: password for name, password in logins.items()}, indent=2))
        secrets_file.chmod(0o600)
        token_file = DEMO_DIR / "publisher_auth_token"
        token_file.write_text(publisher.auth_token)
        token_file.chmod(0o600)
        self._report(customer, publisher, logins, listings)

    def _account(self, name, *, is_publisher):
        account = Account.objects.filter(friendly_name=name, is_publisher=is_publisher).first()
        return account or account_services.create_account(friendly_name=name, is_publisher=is_publisher)

    def _user(self, username, saved, *, staff=False, account=None, accounts=()):
        User = get_user_model()
        password = saved.get(username) or secrets.token_urlsafe(12)
        user, created = User.objects.get_or_create(username=username)
        if created or not user.check_password(password):
            user.set_password(password)
        user.is_staff = user.is_superuser = staff
        user.save()
        for member_of in (account, *accounts) if account is not None else accounts:
            account_services.add_member(account=member_of, user=user)
        return password

    def _listing(self, path, publisher):
        manifest = json.loads(path.read_text())
        manifest["endpoint"]["url"] = _publisher_url(manifest["endpoint"]["url"])
        listing = Listing.objects.filter(unique_name=manifest["unique_name"]).first()
        current = listing.latest_version if listing else None
        if current is None or credentials.open_manifest(current.manifest) != manifest:
            listing = services.import_listing(manifest=manifest, publisher=publisher, state="active").listing
        return listing

    def _demo_installation(self, customer, listings):
        """The demo customer has every demo add-on; the phone-number one is assigned to its
        number, the others run account-wide."""
        number = IncomingPhoneNumber.objects.filter(phone_number=DEMO_NUMBER).first()
        if number is None:
            number = account_services.create_phone_number(
                account=customer, phone_number=DEMO_NUMBER, friendly_name="Demo line"
            )
        for listing in listings:
            if InstalledAddOn.objects.filter(account=customer, listing=listing).exists():
                continue
            installation = services.install_add_on(
                account=customer,
                available_add_on_sid=listing.sid,
                accept_terms_of_service=True,
                configuration=_example_configuration(listing.latest_version.configuration_schema),
            )
            if listing.unique_name == ASSIGNED_LISTING:
                services.assign_add_on(phone_number=number, installation=installation)

    def _report(self, customer, publisher, logins, listings):
        base = settings.MARKETPLACE_BASE_URL
        lines = [
            "",
            f"Console:      {base}/console/   (staff: {base}/admin/)",
            f"  staff       admin / {logins['admin']}",
            f"  customer    customer / {logins['customer']}   (account {customer.sid})",
            f"  publisher   publisher / {logins['publisher']}   (account {publisher.sid})",
            f"API base:     {base}  (HTTP Basic {customer.sid}:{customer.auth_token})",
            f"Balance:      {billing.balance_of(customer)} USD of demo credit",
            f"Listings:     {', '.join(f'{item.unique_name} ({item.sid})' for item in listings) or 'none'}",
            "",
        ]
        self.stdout.write("\n".join(lines))


def _publisher_url(url):
    """Point a bundled manifest at where the example publishers run here."""
    base = urlsplit(settings.EXAMPLE_PUBLISHERS_URL)
    parts = urlsplit(url)
    return urlunsplit((base.scheme, base.netloc, parts.path, parts.query, parts.fragment))


def _example_configuration(schema):
    """A configuration satisfying the schema's required settings, from defaults and enums."""
    configuration = {}
    for name in schema.get("required", []):
        spec = schema["properties"][name]
        if "default" in spec:
            configuration[name] = spec["default"]
        elif "enum" in spec:
            configuration[name] = spec["enum"][0]
    return configuration
