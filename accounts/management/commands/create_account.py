import json

from django.core.management.base import BaseCommand

from accounts import services


class Command(BaseCommand):
    help = "Create an account and print its SID and auth token."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True, help="the account's friendly name")
        parser.add_argument("--publisher", action="store_true", help="the account may publish listings")
        parser.add_argument("--json", action="store_true", help='print {"sid": ..., "auth_token": ...}')

    def handle(self, *args, name, publisher, **options):
        account = services.create_account(friendly_name=name, is_publisher=publisher)
        if options["json"]:
            self.stdout.write(json.dumps({"sid": account.sid, "auth_token": account.auth_token}))
        else:
            kind = "publisher account" if publisher else "account"
            self.stdout.write(f"Created {kind} {account.sid}\nAuth token: {account.auth_token}")
