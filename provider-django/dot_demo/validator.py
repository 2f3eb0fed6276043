"""The claims the demo people carry, and the two checks `prompt=none` needs."""

from oauth2_provider.oauth2_validators import OAuth2Validator


class DemoValidator(OAuth2Validator):
    def get_additional_claims(self, request):
        # Released per granted scope by the base class's `oidc_claim_scope`.
        user = request.user
        return {
            "name": f"{user.first_name} {user.last_name}".strip(),
            "given_name": user.first_name,
            "family_name": user.last_name,
            "preferred_username": user.username,
            "email": user.email,
        }

    def validate_silent_login(self, request):
        # The authorization view lets only a signed-in person this far (a `prompt=none`
        # request without a session is answered `login_required` before); stock 3.4.1 has
        # no implementation and answers 500.
        return True

    def validate_silent_authorization(self, request):
        # Silently only for an app that never asks for consent.
        return bool(getattr(request.client, "skip_authorization", False))
