"""The API's JSON request bodies, parsed with the platform's limits (marketplace.untrusted_json)."""

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError

from marketplace import untrusted_json


class JSONParser(parsers.JSONParser):
    """DRF's parser lets RecursionError (`[` × 45,000) through as a 500; this one answers 400."""

    decimals = False  # numbers as Decimal (never float), for bodies that carry money

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            return untrusted_json.loads(stream.read().decode(encoding), decimals=self.decimals)
        except (untrusted_json.UntrustedJSON, UnicodeDecodeError) as error:
            raise ParseError(f"the JSON body is not acceptable: {error}")
