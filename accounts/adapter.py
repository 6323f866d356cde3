from allauth.account.adapter import DefaultAccountAdapter


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        """Nobody signs themselves up: a visitor requests an account and a support manager
        approves it (SPEC §5 step 2, ``accounts.services.account_request_approve``)."""
        return False
