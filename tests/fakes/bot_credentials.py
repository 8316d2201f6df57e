"""Bot Framework credentials that need no Entra ID: a configured bot signs its calls offline."""

from __future__ import annotations

from botframework.connector.auth import AppCredentials, ServiceClientCredentialsFactory

TOKEN = "token-for-tests"


class StaticTokenCredentials(AppCredentials):
    def get_access_token(self, force_refresh: bool = False) -> str:
        return TOKEN


class StaticTokenFactory(ServiceClientCredentialsFactory):
    """Accepts one app id and hands out credentials whose token is always `TOKEN`."""

    def __init__(self, app_id: str) -> None:
        self.app_id = app_id

    async def is_valid_app_id(self, app_id: str) -> bool:
        return app_id == self.app_id

    async def is_authentication_disabled(self) -> bool:
        return False

    async def create_credentials(
        self, app_id: str, oauth_scope: str, login_endpoint: str, validate_authority: bool
    ) -> AppCredentials:
        return StaticTokenCredentials(app_id=app_id, oauth_scope=oauth_scope)
