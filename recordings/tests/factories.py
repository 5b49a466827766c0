"""factory_boy factories for recordings, their add-on results and payloads.

A Recording is uploaded through recordings.services.create_recording (a real WAV, measured
from its bytes, one result queued per recording add-on the account has installed). Results
and payloads are otherwise written by the worker and the publisher's callback only, so their
factories write the rows directly, for tests that need them in place (lists, pages)."""

import factory
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.tests.factories import AccountFactory
from addons.tests.factories import InstallationFactory
from recordings import services
from recordings.models import AddOnResult, Payload, Recording
from tests.recording_helpers import wav_bytes


class RecordingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Recording

    account = factory.SubFactory(AccountFactory)
    audio = factory.LazyFunction(lambda: SimpleUploadedFile("call.wav", wav_bytes(1.0), content_type="audio/x-wav"))

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return services.create_recording(**kwargs)


class AddOnResultFactory(factory.django.DjangoModelFactory):
    """A queued result of `installation` on `recording` (of the installation's account)."""

    class Meta:
        model = AddOnResult

    installation = factory.SubFactory(InstallationFactory)
    account = factory.SelfAttribute("installation.account")
    recording = factory.SubFactory(RecordingFactory, account=factory.SelfAttribute("..account"))
    listing = factory.SelfAttribute("installation.listing")
    installation_sid = factory.SelfAttribute("installation.sid")


class PayloadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Payload

    add_on_result = factory.SubFactory(AddOnResultFactory)
    label = factory.Sequence(lambda n: f"payload_{n}")
    content_type = "application/json"
    data = factory.django.FileField(filename="payload.json", data=b"{}")
    size = 2
