from django.apps import AppConfig


class MarketplaceConfig(AppConfig):
    name = "marketplace"

    def ready(self):
        from django.conf import settings

        from marketplace import local_state

        # Files under var/ are made when Django starts, not when settings are imported.
        local_state.prepare(settings)
