import json

from django import forms

from marketplace.api.params import e164_number
from marketplace.errors import InvalidParameter


class JSONObjectField(forms.CharField):
    widget = forms.Textarea(attrs={"rows": 4, "spellcheck": "false"})

    def to_python(self, value):
        value = super().to_python(value)
        if not value.strip():
            return {}
        try:
            parsed = json.loads(value)
        except ValueError as error:
            raise forms.ValidationError(f"Not valid JSON: {error}")
        if not isinstance(parsed, dict):
            raise forms.ValidationError("Must be a JSON object, e.g. {\"language\": \"en\"}")
        return parsed


class PhoneNumberField(forms.CharField):
    def to_python(self, value):
        value = super().to_python(value).strip()
        if not value:
            return ""
        try:
            return e164_number(value, param=self.label)
        except InvalidParameter as error:
            raise forms.ValidationError(error.message)


class TestInvocationForm(forms.Form):
    version = forms.ChoiceField()
    integration_point = forms.ChoiceField()
    primary_address = PhoneNumberField(label="Primary address (From)", initial="+14155552671", required=False)
    secondary_address = PhoneNumberField(label="Secondary address (To)", required=False)
    body = forms.CharField(label="Message body", required=False, max_length=1600, widget=forms.Textarea(attrs={"rows": 2}))
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
