"""How the server names a key to anyone but its owner: a fingerprint, never the key or a prefix of it.

A room's keys often share their start (`sk-room-...`), so a prefix gives a key away. A fingerprint
is the start of a keyed hash: the key is a secret the server drew when it started, so nobody can
turn a fingerprint back into the key, nor test a guessed key against it. The same key has the
same fingerprint for the server's life, which is all an instructor's view of the room needs.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

SECRET = secrets.token_bytes(16)  # one per server process, never shown


def fingerprint(key: str) -> str:
    """Eight hex digits for an API key: 60 keys in a room collide with a chance of about 1 in 2 million."""
    return hmac.new(SECRET, key.encode(), hashlib.sha256).hexdigest()[:8]
