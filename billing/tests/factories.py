"""factory_boy factories for accounts with money: a customer funded with prepaid credit."""

from accounts.tests.factories import AccountFactory
from billing import services


class FundedAccountFactory(AccountFactory):
    """A customer with prepaid credit (100 by default): priced add-ons only run for those who can pay."""

    credit = "100"

    @classmethod
    def _create(cls, model_class, *args, credit, **kwargs):
        account = super()._create(model_class, *args, **kwargs)
        services.add_credit(account=account, amount=credit, reason="test credit")
        return account
