"""An installation's configuration checked against its version's configuration schema.

One rule for the API and the console: every violation is reported with the field it
belongs to, so a form can show each error beside its field.
"""

from jsonschema import Draft7Validator
from jsonschema.exceptions import SchemaError

from addons import schemas
from marketplace.errors import InvalidConfiguration

# Settings the platform itself reads on recording installations: where to tell the customer
# that a result is ready. Not the publisher's, so never passed to its templates.
RESERVED_RECORDING_SETTINGS = {
    "callback_url": {"type": "string", "name": "Callback URL", "pattern": "^https?://[^\\s]+$", "maxLength": 1000},
    "callback_method": {"type": "string", "name": "Callback method", "enum": ["GET", "POST"]},
}


def reserved_settings(add_on_type):
    return RESERVED_RECORDING_SETTINGS if add_on_type == "recording_analysis" else {}


def with_reserved(schema, reserved):
    """The schema as validated: the listing's properties plus the platform's reserved ones."""
    if not reserved:
        return schema
    return {**schema, "type": "object", "properties": {**reserved, **schema.get("properties", {})}}


def violations(schema, configuration):
    """Every way `configuration` breaks `schema`, as [{"field", "message"}], sorted by field.

    A setting the schema does not define is refused too: it would never reach the publisher,
    and is most often a typo.
    """
    properties = schema.get("properties", {})
    found = [
        {"field": name, "message": f"{name} is not a setting of this add-on"}
        for name in configuration
        if name not in properties
    ]
    try:
        # Draft 7 whatever the `$schema`, as always; patterns on RE2, the work limited.
        errors = schemas.errors(schema, configuration, dialect=Draft7Validator)
    except (schemas.WorkLimitExceeded, SchemaError) as error:
        return sorted(found, key=lambda v: (v["field"], v["message"])) + [
            {"field": "", "message": f"the configuration could not be checked: {error}"}
        ]
    for error in errors:
        if error.validator == "required":
            missing = [name for name in error.validator_value if name not in (error.instance or {})]
            fields = missing or [""]
        elif error.validator == "additionalProperties":
            continue  # already reported above, once per setting
        else:
            fields = [str(error.absolute_path[0]) if error.absolute_path else ""]
        for field in fields:
            found.append({"field": field, "message": _message(error, field, properties)})
    return sorted(found, key=lambda v: (v["field"], v["message"]))


def _message(error, field, properties):
    label = properties.get(field, {}).get("name") or field
    prefix = f"{label} ({field})" if label != field else field
    if error.validator == "required":
        return f"{prefix} is required"
    if error.validator == "pattern":
        return f"{prefix} must match the pattern {error.validator_value}"
    if error.validator == "enum":
        return f"{prefix} must be one of: {', '.join(map(str, error.validator_value))}"
    if error.validator == "type":
        return f"{prefix} must be of type {error.validator_value}"
    return f"{prefix}: {error.message}" if field else error.message


def with_defaults(schema, configuration):
    """The configuration with the schema's defaults filled in for properties left out."""
    filled = dict(configuration)
    for name, spec in schema.get("properties", {}).items():
        if name not in filled and "default" in spec:
            filled[name] = spec["default"]
    return filled


def validated_configuration(schema, configuration, *, param="Configuration", reserved=None):
    """`configuration` with defaults applied, or InvalidConfiguration naming every violation."""
    schema = with_reserved(schema, reserved)
    if not isinstance(configuration, dict):
        raise InvalidConfiguration(f"Parameter '{param}' must be a JSON object", param=param)
    filled = with_defaults(schema, configuration)
    found = violations(schema, filled)
    if found:
        summary = "; ".join(v["message"] for v in found)
        raise InvalidConfiguration(
            f"Parameter '{param}' does not satisfy the add-on's configuration schema: {summary}",
            param=param,
            details=found,
        )
    return filled
