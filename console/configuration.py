"""The configuration form of an add-on, generated from its JSON Schema with django-jsonform.

django-jsonform draws the fields (string: text, number/integer: number, boolean: checkbox,
enum: dropdown, `name` as the label, `_help` as the help beside the field, shown as a
tooltip by the console's stylesheet). Validation is the API's own (addons.configuration),
so a form and an API call accept and refuse exactly the same; each violation is handed
back to the widget, which shows it beside its field and keeps what was typed.
"""

from django import forms
from django.forms import JSONField as PlainJSONField
from django_jsonform.forms.fields import JSONFormField
from django_jsonform.utils import ErrorMap

from addons.configuration import reserved_settings, with_reserved
from marketplace import untrusted_json


def widget_schema(schema, add_on_type):
    """Our configuration schema in django-jsonform's terms."""
    schema = with_reserved(schema, reserved_settings(add_on_type))
    required = set(schema.get("required", []))
    keys = {}
    for name, spec in schema.get("properties", {}).items():
        field = {"type": spec.get("type", "string"), "title": spec.get("name") or name}
        if spec.get("_help"):
            field["help_text"] = spec["_help"]
        if "enum" in spec:
            field["choices"] = list(spec["enum"])
        for keyword in ("minimum", "maximum", "minLength", "maxLength", "default"):
            if keyword in spec:
                field[keyword] = spec[keyword]
        if name in required:
            field["required"] = True
        keys[name] = field
    return {"type": "object", "keys": keys}


class ConfigurationField(JSONFormField):
    """django-jsonform's widget; the platform's validation (see the form's clean)."""

    def __init__(self, *args, **kwargs):
        # The customer's posted JSON is parsed with the platform's limits (depth, NUL).
        # (django-jsonform does not pass `decoder` on to Django's JSONField: set it here.)
        super().__init__(*args, **kwargs)
        self.decoder = untrusted_json.Decoder

    def validate(self, value):
        PlainJSONField.validate(self, value)

    def run_validators(self, value):
        return None

    def clean(self, value):
        # The widget posts a field left empty as null or "": that is a setting not given,
        # exactly as when an API call leaves it out (defaults and `required` then apply).
        cleaned = super().clean(value)
        if isinstance(cleaned, dict):
            return {k: v for k, v in cleaned.items() if v is not None and v != ""}
        return cleaned


class ConfigurationFormMixin:
    """Adds a `configuration` field for `version` and reports violations beside each field."""

    def add_configuration_field(self, version, add_on_type, initial=None):
        self.fields["configuration"] = ConfigurationField(
            schema=widget_schema(version.configuration_schema, add_on_type), required=False, initial=initial or {}
        )

    def configuration_violations(self, error):
        """Show an InvalidConfiguration's violations in the widget and in the form."""
        error_map = ErrorMap()
        for violation in error.details or []:
            error_map.append([violation["field"]] if violation["field"] else [], violation["message"])
        self.fields["configuration"].add_error(error_map)
        self.add_error("configuration", forms.ValidationError("Please correct the settings marked below."))
