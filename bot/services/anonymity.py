"""Anonymous voters: a keyed hash stands for a person, so no row says who chose what.

The key is COPBOT_SECRET_KEY when it is set, otherwise a random secret made once for the
installation and kept in the database (then whoever holds a copy of the database and knows
people's ids could test guesses; the setting keeps the key elsewhere)."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import select

from storage.database import Database
from storage.models import InstallationSecret

SECRET_NAME = "voter_key"


class VoterKeys:
    """`await keys.voter(poll_id, user_id)`: the same opaque key for the same person in the
    same poll, a different one in every other poll."""

    def __init__(self, database: Database, configured: str | None = None) -> None:
        self._database = database
        self._key: bytes | None = configured.encode() if configured else None

    async def voter(self, poll_id: int, user_id: str) -> str:
        key = self._key or await self._stored_key()
        message = f"{poll_id}:{user_id}".encode()
        return "h:" + hmac.new(key, message, hashlib.sha256).hexdigest()

    async def _stored_key(self) -> bytes:
        """The installation's secret, made on first use (once, even when two processes ask at
        the same moment), then kept in memory."""
        query = select(InstallationSecret.value).where(InstallationSecret.name == SECRET_NAME)
        async with self._database.session() as session:
            found = (await session.exec(query)).first()
            if found is None:
                dialect = postgresql if self._database.backend == "postgresql" else sqlite
                await session.exec(
                    dialect.insert(InstallationSecret)  # type: ignore[attr-defined]
                    .values(name=SECRET_NAME, value=secrets.token_hex(32))
                    .on_conflict_do_nothing(index_elements=["name"])
                )
                found = (await session.exec(query)).one()
        self._key = found.encode()
        return self._key
