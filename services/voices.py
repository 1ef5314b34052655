"""Voice profiles (how a companion sounds) and the catalogue of voices the providers offer.

A profile may only name a provider this server has configured, so a companion never ends up
with a voice no process can render; espeak-ng, the offline voice, is always there.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from sqlalchemy import func, select
from sqlalchemy import update as sql_update
from sqlalchemy.ext.asyncio import AsyncSession

from pipeline.tts.base import TTSProvider, VoiceInfo
from services import quotas, validation
from services.errors import BadUserInput, NotFound, QuotaExceeded
from services.identity import Viewer
from store.models import Companion, VoiceProfile

log = logging.getLogger("holomate.voices")
MAX_PROFILES = 50
_LANGUAGE = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{1,8})*")
SPEED = (0.5, 2.0)
UNIT = (0.0, 1.0)
_PREVIEWS = {
    "en": "Hi! This is how I sound. Shall we talk?",
    "de": "Hallo! So klinge ich. Wollen wir uns unterhalten?",
    "fr": "Bonjour ! Voici ma voix. On discute ?",
    "es": "¡Hola! Así suena mi voz. ¿Hablamos?",
    "it": "Ciao! Questa è la mia voce. Parliamo?",
    "pt": "Olá! Esta é a minha voz. Vamos conversar?",
    "nl": "Hallo! Zo klink ik. Zullen we praten?",
}


def preview_text(language: str) -> str:
    return _PREVIEWS.get(language.split("-")[0].lower(), _PREVIEWS["en"])


class VoiceCatalog:
    """The configured TTS providers; each provider's voice list is fetched once and kept."""

    def __init__(self, providers: Mapping[str, TTSProvider], recheck_s: float = 60.0) -> None:
        self.providers = dict(providers)
        self._cache: dict[str, list[VoiceInfo]] = {}
        self._fetched_at: dict[str, float] = {}
        self._recheck_s = recheck_s

    @property
    def provider_names(self) -> list[str]:
        return sorted(self.providers)

    async def available(self) -> list[VoiceInfo]:
        lists = await asyncio.gather(*(self._voices_of(name) for name in self.provider_names))
        return [voice for voices in lists for voice in voices]

    async def offers(self, provider: str, voice_id: str) -> bool:
        """Whether ``provider`` lists ``voice_id``; see ``listed``."""
        return await self.listed(provider, voice_id) is not None

    async def listed(self, provider: str, voice_id: str) -> VoiceInfo | None:
        """The voice ``provider`` lists as ``voice_id``, if any. A voice added at the provider
        since the list was fetched (a new ElevenLabs clone) is found by fetching again, at most
        once a minute; a provider that cannot be reached raises its error rather than say no."""
        found = _find(self._cache.get(provider, ()), voice_id)
        if found is not None:
            return found
        fetched = self._fetched_at.get(provider)
        if (
            provider not in self._cache
            or fetched is None
            or (time.monotonic() - fetched >= self._recheck_s)
        ):
            await self._fetch(provider)
        return _find(self._cache.get(provider, ()), voice_id)

    async def _voices_of(self, name: str) -> list[VoiceInfo]:
        if name not in self._cache:
            try:
                await self._fetch(name)
            except Exception:  # one provider down must not hide the others' voices
                log.warning("listing voices of %s failed", name, exc_info=True)
                return []
        return self._cache[name]

    async def _fetch(self, name: str) -> None:
        voices = await self.providers[name].list_voices()
        self._cache[name] = [
            v if v.preview_text else replace(v, preview_text=preview_text(v.language))
            for v in voices
        ]
        self._fetched_at[name] = time.monotonic()


@dataclass(slots=True)
class VoiceFields:
    """Fields of a create or update; ``None`` on update means "leave as is"."""

    name: str | None = None
    provider: str | None = None
    voice_id: str | None = None
    language: str | None = None
    speed: float | None = None
    stability: float | None = None
    similarity: float | None = None


async def get_owned(session: AsyncSession, viewer: Viewer, profile_id: int) -> VoiceProfile:
    profile = await session.get(VoiceProfile, profile_id)
    if profile is None or profile.owner_id != viewer.user_id:
        raise NotFound("Voice profile")
    return profile


async def provider_of(session: AsyncSession, companion_id: int) -> str | None:
    """The provider of the companion's voice (None: it speaks in the default voice)."""
    provider: str | None = await session.scalar(
        select(VoiceProfile.provider)
        .join(Companion, Companion.voice_profile_id == VoiceProfile.id)
        .where(Companion.id == companion_id)
    )
    return provider


async def create(
    session: AsyncSession, viewer: Viewer, catalog: VoiceCatalog, fields: VoiceFields
) -> VoiceProfile:
    profile = VoiceProfile(owner_id=viewer.user_id)
    _apply(profile, catalog.provider_names, fields, creating=True)
    await _check_voice(catalog, profile)  # may ask the provider: before taking the turn
    await quotas.one_at_a_time(session, viewer.user_id)  # racing creations count one by one
    count = await session.scalar(
        select(func.count())
        .select_from(VoiceProfile)
        .where(VoiceProfile.owner_id == viewer.user_id)
    )
    if (count or 0) >= MAX_PROFILES:
        raise QuotaExceeded("voiceProfiles", MAX_PROFILES, None)
    session.add(profile)
    await session.commit()
    return profile


async def update(
    session: AsyncSession,
    viewer: Viewer,
    profile_id: int,
    catalog: VoiceCatalog,
    fields: VoiceFields,
) -> VoiceProfile:
    profile = await get_owned(session, viewer, profile_id)
    _apply(profile, catalog.provider_names, fields, creating=False)
    await _check_voice(catalog, profile)
    await session.commit()
    return profile


async def remove(session: AsyncSession, viewer: Viewer, profile_id: int) -> int:
    profile = await get_owned(session, viewer, profile_id)
    # The FK sets this null too; explicit for engines that do not enforce foreign keys.
    await session.execute(
        sql_update(Companion)
        .where(Companion.voice_profile_id == profile.id)
        .values(voice_profile_id=None)
    )
    await session.delete(profile)
    await session.commit()
    return profile_id


def _apply(profile: VoiceProfile, providers: list[str], f: VoiceFields, *, creating: bool) -> None:
    if f.name is not None or creating:
        profile.name = validation.text(f.name or "", "name", min_len=1, max_len=80)
    if f.provider is not None or creating:
        provider = f.provider or "espeak"
        if provider not in providers:
            raise BadUserInput(f"Use one of: {', '.join(providers)}", field="provider")
        profile.provider = provider
    if f.language is not None or creating:
        # A tag, or a label such as "multilingual" that ``_check_voice`` matches to the voice.
        profile.language = validation.text(f.language or "en", "language", min_len=1, max_len=32)
    if f.voice_id is not None or creating:
        profile.voice_id = validation.text(
            f.voice_id or profile.language, "voiceId", min_len=1, max_len=128
        )
    if f.speed is not None or creating:
        profile.speed = validation.number(_or(f.speed, 1.0), "speed", low=SPEED[0], high=SPEED[1])
    if f.stability is not None or creating:
        profile.stability = validation.number(
            _or(f.stability, 0.5), "stability", low=UNIT[0], high=UNIT[1]
        )
    if f.similarity is not None or creating:
        profile.similarity = validation.number(
            _or(f.similarity, 0.75), "similarity", low=UNIT[0], high=UNIT[1]
        )


async def _check_voice(catalog: VoiceCatalog, profile: VoiceProfile) -> None:
    """The voice must be one its provider offers (``availableVoices``), or the language itself,
    which each provider reads as "its default voice for this language". The language is a tag
    (one a person picks for a multilingual voice) or the very one the voice is listed with."""
    tag = _is_tag(profile.language)
    if tag and profile.voice_id == profile.language:
        return
    voice = await catalog.listed(profile.provider, profile.voice_id)
    if voice is None and tag:
        raise BadUserInput(
            f"Not a {profile.provider} voice: pick a voiceId from availableVoices",
            field="voiceId",
        )
    if not tag and (voice is None or voice.language != profile.language):
        raise BadUserInput(
            "Use a BCP 47 language tag such as 'en' or 'en-GB', or the language availableVoices "
            "lists for this voice",
            field="language",
        )


def _is_tag(value: str) -> bool:
    # Wider than ``validation.language``: provider voices use tags like "en-gb-scotland".
    return len(value) <= 16 and _LANGUAGE.fullmatch(value) is not None


def _find(voices: Iterable[VoiceInfo], voice_id: str) -> VoiceInfo | None:
    return next((v for v in voices if v.voice_id == voice_id), None)


def _or(value: float | None, default: float) -> float:
    return default if value is None else value
