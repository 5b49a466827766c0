from django.apps import AppConfig


class InvocationConfig(AppConfig):
    """Calling publishers and customers' URLs: Lookups, inbound traffic, tests. No models of its
    own: it records into addons' Invocation and Notification, which billing reads too."""

    name = "invocation"
