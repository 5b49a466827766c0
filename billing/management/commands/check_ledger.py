import sys

from django.core.management.base import BaseCommand

from billing import reconciliation


class Command(BaseCommand):
    help = (
        "Check the books: balances against the ledger and open holds, every charge against its"
        " ledger entry and cause, every closed statement against its events. Exits 1 on any difference."
    )

    def add_arguments(self, parser):
        parser.add_argument("--quiet", action="store_true", help="print nothing when the books balance")

    def handle(self, *args, quiet=False, **options):
        report, problems = reconciliation.run()
        if not problems:
            if not quiet:
                self.stdout.write(f"The books balance: {report.accounts} account(s) checked.")
            return
        for problem in problems:
            self.stderr.write(problem)
        self.stderr.write(f"{len(problems)} difference(s); recorded as Reconciliation #{report.id} for staff.")
        sys.exit(1)
