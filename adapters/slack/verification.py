"""Slack request signatures checked on the raw bytes, before anything parses the body."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping

from slack_sdk.signature import Clock, SignatureVerifier

# Slack sends whole seconds and a hex SHA-256 digest; anything else is refused before use
# (int() of 5,000 digits raises, compare_digest() raises on non-ASCII text).
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")
MAX_AGE_SECONDS = 5 * 60


class RawBodyVerifier(SignatureVerifier):
    """slack_sdk's verifier made total: any header value or body gives True or False, never
    an exception. Bytes are signed as received, so a body that is not UTF-8 still verifies
    (and is then refused as unreadable, 400, rather than as unsigned)."""

    def __init__(self, signing_secret: str, clock: Clock | None = None) -> None:
        super().__init__(signing_secret, clock or Clock())

    def problem(self, body: bytes, headers: Mapping[str, str]) -> str | None:
        """Why the request is not Slack's (a few words for the log), or None when it is."""
        timestamp = headers.get("X-Slack-Request-Timestamp")
        signature = headers.get("X-Slack-Signature")
        if timestamp is None or signature is None:
            return "missing signature headers"
        if not _TIMESTAMP.fullmatch(timestamp):
            return "malformed timestamp"
        if not _SIGNATURE.fullmatch(signature):
            return "malformed signature"
        if abs(self.clock.now() - int(timestamp)) > MAX_AGE_SECONDS:
            return "stale timestamp"
        expected = self.generate_signature(timestamp=timestamp, body=body)
        if not hmac.compare_digest(expected, signature):
            return "bad signature"
        return None

    def is_valid(self, body: str | bytes, timestamp: str | None, signature: str | None) -> bool:
        headers = {}
        if timestamp is not None:
            headers["X-Slack-Request-Timestamp"] = timestamp
        if signature is not None:
            headers["X-Slack-Signature"] = signature
        raw = body.encode() if isinstance(body, str) else body
        return self.problem(raw, headers) is None

    def generate_signature(self, *, timestamp: str, body: str | bytes) -> str:
        raw = body.encode() if isinstance(body, str) else body
        base = b"v0:" + timestamp.encode("ascii") + b":" + raw
        digest = hmac.new(self.signing_secret.encode(), base, hashlib.sha256).hexdigest()
        return f"v0={digest}"
