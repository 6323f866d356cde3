from allauth.account.adapter import DefaultAccountAdapter

from sla_portal.client_ip import client_ip


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        """Nobody signs themselves up: a visitor requests an account and a support manager
        approves it (SPEC §5 step 2, ``accounts.services.account_request_approve``)."""
        return False

    def get_client_ip(self, request) -> str:
        """allauth's rate limits key on the same client address as DRF's throttles."""
        ip = client_ip(request)
        return ip if ip else super().get_client_ip(request)
