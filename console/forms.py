from django import forms

from console.configuration import ConfigurationFormMixin
from marketplace import untrusted_json
from marketplace.api.params import e164_number
from marketplace.errors import InvalidParameter


class JSONObjectField(forms.CharField):
    widget = forms.Textarea(attrs={"rows": 4, "spellcheck": "false"})

    def to_python(self, value):
        value = super().to_python(value)
        if not value.strip():
            return {}
        try:
            parsed = untrusted_json.loads(value)
        except untrusted_json.UntrustedJSON as error:
            raise forms.ValidationError(f"Not valid JSON: {error}")
        if not isinstance(parsed, dict):
            raise forms.ValidationError('Must be a JSON object, e.g. {"language": "en"}')
        return parsed


class PhoneNumberField(forms.CharField):
    def to_python(self, value):
        value = super().to_python(value).strip()
        if not value:
            return ""
        try:
            return e164_number(value, param=self.label)
        except InvalidParameter:
            raise forms.ValidationError("Not a valid E.164 phone number (e.g. +14155552671)")


class TestInvocationForm(forms.Form):
    version = forms.ChoiceField()
    integration_point = forms.ChoiceField()
    primary_address = PhoneNumberField(label="Primary address (From)", required=False)
    secondary_address = PhoneNumberField(label="Secondary address (To)", required=False)
    body = forms.CharField(
        label="Message body", required=False, max_length=1600, widget=forms.Textarea(attrs={"rows": 2})
    )
    configuration = JSONObjectField(label="Configuration (JSON)", required=False)
    runtime_data = JSONObjectField(label="Runtime fields (JSON)", required=False)

    def __init__(self, *args, listing, **kwargs):
        super().__init__(*args, **kwargs)
        versions = list(listing.versions.order_by("-number"))
        self.versions = {v.sid: v for v in versions}
        self.fields["version"].choices = [(v.sid, f"v{v.number} ({v.sid})") for v in versions]
        points = sorted({e.unique_name for v in versions for e in v.extensions.all()})
        self.fields["integration_point"].choices = [(p, p) for p in points]


class RecordingUploadForm(forms.Form):
    audio = forms.FileField(label="Recording (WAV)", help_text="Read for its duration, channels and rate.")


class InstallForm(ConfigurationFormMixin, forms.Form):
    accept_terms = forms.BooleanField(label="I accept the add-on's terms of service", required=False)
    unique_name = forms.CharField(
        label="Unique name",
        required=False,
        max_length=64,
        help_text="How your code names this installation (e.g. AddOns=<unique name>); left empty, the listing's name.",
    )

    def __init__(self, *args, listing, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_configuration_field(listing.latest_version, listing.type)


class ConfigurationForm(ConfigurationFormMixin, forms.Form):
    unique_name = forms.CharField(label="Unique name", max_length=64)

    def __init__(self, *args, installation, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_configuration_field(installation.version, installation.listing.type, installation.configuration)
        self.fields["unique_name"].initial = installation.unique_name


class PhoneNumberForm(forms.Form):
    phone_number = PhoneNumberField(label="Phone number (E.164)", required=True)
    friendly_name = forms.CharField(label="Friendly name", required=False, max_length=64)
    sms_url = forms.URLField(
        label="Incoming message webhook (SmsUrl)", required=False, max_length=1000, assume_scheme="https"
    )
    voice_url = forms.URLField(
        label="Incoming call webhook (VoiceUrl)", required=False, max_length=1000, assume_scheme="https"
    )


class ManifestForm(forms.Form):
    manifest_file = forms.FileField(label="Manifest file (JSON)", required=False)
    manifest_text = forms.CharField(
        label="…or paste it", required=False, widget=forms.Textarea(attrs={"rows": 14, "spellcheck": "false"})
    )

    def clean(self):
        data = super().clean()
        upload = data.get("manifest_file")
        if upload is not None:
            try:
                data["manifest"] = upload.read().decode("utf-8")
            except UnicodeDecodeError:
                raise forms.ValidationError("The manifest file must be UTF-8 JSON text.")
        elif data.get("manifest_text", "").strip():
            data["manifest"] = data["manifest_text"]
        else:
            raise forms.ValidationError("Upload a manifest file or paste its JSON.")
        return data
