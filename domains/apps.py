from django.apps import AppConfig


class DomainsConfig(AppConfig):
    name = "domains"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from domains.metrics import register as register_metrics

        register_metrics()  # before the guarded import below, which may return early
        # ips renders each server's PMTA config and includes whatever fragments apps register; the import
        # goes domains -> ips, never the other way. Guarded so domains works with an ips without a registry.
        try:
            from ips.pmta_config import register_bundle_files, register_fragment, register_vmta_lines
        except ImportError:
            return
        from domains.pmta_fragment import (
            FRAGMENT_NAME,
            bundle_key_files,
            dkim_vmta_lines,
            render_dkim_fragment,
        )

        register_fragment(FRAGMENT_NAME, render_dkim_fragment)
        register_vmta_lines("dkim", dkim_vmta_lines)
        register_bundle_files("dkim", bundle_key_files)
