"""Provider errors, one small tree.

    ProviderError                 any failure of an outside or offline provider
    ├── ProviderUnavailable       cannot be reached / timed out        (retryable)
    ├── ProviderRateLimited       told to slow down                    (retryable)
    ├── ProviderAuthError         key missing or refused               (not retryable)
    └── ProviderBadResponse       answered something we cannot use     (not retryable)

SDK errors are translated at the edge with ``raise ... from e`` so callers never import an SDK.
"""

from __future__ import annotations


class ProviderError(Exception):
    code = "PROVIDER_ERROR"
    retryable = False

    def __init__(self, provider: str, detail: str) -> None:
        super().__init__(f"{provider}: {detail}")
        self.provider = provider
        self.detail = detail


class ProviderUnavailable(ProviderError):
    code = "PROVIDER_UNAVAILABLE"
    retryable = True


class ProviderRateLimited(ProviderError):
    code = "PROVIDER_RATE_LIMITED"
    retryable = True


class ProviderAuthError(ProviderError):
    code = "PROVIDER_AUTH"


class ProviderBadResponse(ProviderError):
    code = "PROVIDER_BAD_RESPONSE"
