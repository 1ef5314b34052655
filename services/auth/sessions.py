"""Register, log in, rotate refresh tokens (reuse revokes the family), log out."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services import validation
from services.auth.policy import AuthPolicy
from services.auth.revocations import Ended
from services.auth.tokens import hash_opaque_token, new_opaque_token
from services.errors import Conflict, Unauthenticated
from store.base import utcnow
from store.models import BillingSubscription, RefreshToken, User, UserPreference


@dataclass(frozen=True, slots=True)
class AuthResult:
    user: User
    access_token: str
    refresh_token: str
    access_expires_at: datetime


async def register(
    session: AsyncSession,
    policy: AuthPolicy,
    email: str,
    password: str,
    display_name: str,
    client_ip: str = "",
) -> AuthResult:
    email = validation.email(email)
    password = validation.password(password)
    display_name = validation.text(display_name, "displayName", min_len=1, max_len=80)
    if await session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict("An account with this email already exists", field="email")
    user = User(
        email=email, display_name=display_name, password_hash=await policy.passwords.hash(password)
    )
    session.add(user)
    try:
        await session.flush()
    except IntegrityError as e:  # lost a race with a concurrent registration
        raise Conflict("An account with this email already exists", field="email") from e
    session.add(UserPreference(user_id=user.id))
    session.add(BillingSubscription(user_id=user.id, plan="free", status="active"))
    result = await _issue(session, policy, user, family_id=str(uuid.uuid4()))
    await session.commit()
    await _known_client(policy, user, client_ip)
    return result


async def login(
    session: AsyncSession, policy: AuthPolicy, email: str, password: str, client_ip: str = ""
) -> AuthResult:
    normalized = email.strip().lower()
    throttle = policy.login_throttle
    if throttle is not None:
        await throttle.admit(normalized, client_ip)
    # Accounts only have valid addresses: anything else (a NUL byte PostgreSQL would refuse)
    # matches no one, and is checked against no hash in the same time as an unknown account.
    user = (
        await session.scalar(select(User).where(User.email == normalized))
        if validation.is_email(normalized)
        else None
    )
    ok = await policy.passwords.verify(user.password_hash if user else None, password)
    if user is None or not ok:
        if throttle is not None:
            await throttle.failed(normalized, client_ip)
        raise Unauthenticated("Invalid email or password", reason="BAD_CREDENTIALS")
    result = await _issue(session, policy, user, family_id=str(uuid.uuid4()))
    await session.commit()
    await _known_client(policy, user, client_ip)
    return result


async def refresh(
    session: AsyncSession, policy: AuthPolicy, token: str, client_ip: str = ""
) -> AuthResult:
    row = await session.scalar(
        select(RefreshToken).where(RefreshToken.token_hash == hash_opaque_token(token))
    )
    now = utcnow()
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        raise Unauthenticated("Invalid refresh token", reason="REFRESH_INVALID")
    if row.used_at is not None:
        if now - row.used_at <= timedelta(seconds=policy.refresh_reuse_grace_s):
            raise Unauthenticated(
                "Refresh token already rotated; use the newer one", reason="REFRESH_ROTATED"
            )
        # Reuse later means the token leaked: end every session descended from this login,
        # its access tokens and live sockets included, on every process.
        await _revoke_family(session, row.family_id, now)
        await session.commit()
        await policy.revocations.end(Ended(frozenset({row.family_id})), record=True)
        raise Unauthenticated("Refresh token reused; please log in again", reason="REFRESH_REUSED")
    row.used_at = now
    user = await session.get_one(User, row.user_id)
    result = await _issue(session, policy, user, family_id=row.family_id)
    await session.commit()
    await _known_client(policy, user, client_ip)
    return result


async def _known_client(policy: AuthPolicy, user: User, client_ip: str) -> None:
    """The owner's addresses: where the account was created, logged in or kept its session
    alive may still log in when guessing from elsewhere has spent the account's failures."""
    if policy.login_throttle is not None:
        await policy.login_throttle.succeeded(user.email, client_ip)


async def logout(session: AsyncSession, policy: AuthPolicy, token: str) -> bool:
    """End the login: refresh tokens first (committed even if Redis is down), then its access
    tokens and sockets everywhere; a SERVICE_UNAVAILABLE answer can be retried."""
    row = await session.scalar(
        select(RefreshToken).where(RefreshToken.token_hash == hash_opaque_token(token))
    )
    if row is None:
        return False
    await _revoke_family(session, row.family_id, utcnow())
    await session.commit()
    await policy.revocations.end(Ended(frozenset({row.family_id})), record=True)
    return True


async def change_password(
    session: AsyncSession,
    policy: AuthPolicy,
    user_id: int,
    current: str,
    new: str,
    keep_session: str = "",
) -> AuthResult:
    """New tokens for the caller's session (``keep_session``); every other one ends."""
    user = await session.get_one(User, user_id)
    if not await policy.passwords.verify(user.password_hash, current):
        raise Unauthenticated("Current password is wrong", reason="BAD_CREDENTIALS")
    new = validation.password(new, field="newPassword")
    user.password_hash = await policy.passwords.hash(new)
    user.token_version += 1  # every access token issued before now stops working
    policy.verified.forget_user(user.id)
    now = utcnow()
    others = set(
        await session.scalars(
            select(RefreshToken.family_id).where(
                RefreshToken.user_id == user.id,
                RefreshToken.revoked_at.is_(None),
                RefreshToken.expires_at > now,
                RefreshToken.family_id != keep_session,
            )
        )
    )
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.user_id == user.id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    result = await _issue(session, policy, user, family_id=keep_session or str(uuid.uuid4()))
    await session.commit()
    # The token version already refuses their access tokens (no record needed): close sockets.
    await policy.revocations.end(Ended(frozenset(others)), record=False)
    return result


async def _revoke_family(session: AsyncSession, family_id: str, now: datetime) -> None:
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


async def _issue(
    session: AsyncSession, policy: AuthPolicy, user: User, family_id: str
) -> AuthResult:
    refresh_token = new_opaque_token()
    now = utcnow()
    session.add(
        RefreshToken(
            user_id=user.id,
            family_id=family_id,
            token_hash=hash_opaque_token(refresh_token),
            created_at=now,
            expires_at=now + timedelta(seconds=policy.refresh_ttl_s),
        )
    )
    access = policy.codec.issue(
        "access", user.id, user.token_version, policy.access_ttl_s, user.id, session_id=family_id
    )
    return AuthResult(
        user=user,
        access_token=access,
        refresh_token=refresh_token,
        access_expires_at=now + timedelta(seconds=policy.access_ttl_s),
    )
