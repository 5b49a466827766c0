"""factory_boy factories for accounts and their phone numbers.

Each factory creates through the service a request would use (accounts.services), so a
made-up account is one the API could have made: SIDs, tokens and checks included."""

import factory

from accounts import services
from accounts.models import Account, IncomingPhoneNumber


class AccountFactory(factory.django.DjangoModelFactory):
    """A customer account; `AccountFactory(is_publisher=True)` or PublisherFactory for a publisher."""

    class Meta:
        model = Account

    friendly_name = factory.Sequence(lambda n: f"Account {n}")
    is_publisher = False

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return services.create_account(**kwargs)


class PublisherFactory(AccountFactory):
    friendly_name = factory.Sequence(lambda n: f"Publisher {n} Data")
    is_publisher = True


class PhoneNumberFactory(factory.django.DjangoModelFactory):
    """An IncomingPhoneNumber of `account` (a new customer unless given)."""

    class Meta:
        model = IncomingPhoneNumber

    account = factory.SubFactory(AccountFactory)
    phone_number = factory.Sequence(lambda n: f"+1415555{n % 10000:04d}")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return services.create_phone_number(**kwargs)
