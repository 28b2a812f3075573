"""Chromium's virtual authenticator, driven over the DevTools protocol."""

from __future__ import annotations

from playwright.async_api import CDPSession, Page


async def virtual_authenticator(page: Page, *, prf: bool = False) -> tuple[CDPSession, str]:
    """A platform authenticator; with ``prf`` it supports the PRF extension
    (hmac-secret), which needs CTAP 2.1 (see shared/notes/passkey-prf.md)."""
    cdp = await page.context.new_cdp_session(page)
    await cdp.send("WebAuthn.enable")
    result = await cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
                **({"ctap2Version": "ctap2_1", "hasPrf": True} if prf else {}),
            }
        },
    )
    return cdp, str(result["authenticatorId"])


async def credential_count(cdp: CDPSession, authenticator_id: str) -> int:
    result = await cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})
    return len(result["credentials"])
