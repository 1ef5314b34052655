"""The two codes of a device authorization (RFC 8628 section 6.1).

The user code is short and typed by a person: 8 letters from an alphabet without vowels (no
accidental words) and without look-alikes (no 0/O, 1/I/L), shown as ``WDJB-MJHT``; typing it in
lower case, without the dash or with spaces works too. The device code is long and random: it is
the device's secret until the token is handed out. Only SHA-256 hashes of either are stored.
"""

from __future__ import annotations

import hashlib
import secrets

ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"
USER_CODE_LENGTH = 8


def new_user_code() -> str:
    letters = "".join(secrets.choice(ALPHABET) for _ in range(USER_CODE_LENGTH))
    return f"{letters[:4]}-{letters[4:]}"


def normalize_user_code(raw: str) -> str:
    """What the person meant: upper case, separators dropped (empty if it cannot be a code)."""
    cleaned = "".join(c for c in raw.upper() if c not in "- \t")
    if len(cleaned) != USER_CODE_LENGTH or any(c not in ALPHABET for c in cleaned):
        return ""
    return cleaned


def new_device_code() -> str:
    return secrets.token_urlsafe(32)


def code_hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()
