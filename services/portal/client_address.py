"""The browser's address, as the portal tells the registry on sign-in (issue 9.3)."""

from __future__ import annotations

from starlette.requests import Request

from services.portal.settings import PortalSettings

MAX_ADDRESS_LENGTH = 64


def browser_address(request: Request, settings: PortalSettings) -> str | None:
    """The direct peer's address; when that peer is a trusted proxy (the gateway, the
    Ingress), the address it wrote in X-Forwarded-For — walking from the right past further
    trusted proxies, since entries to the left of a proxy's own come from the client and can
    be forged. A header from an untrusted peer is never believed."""
    if request.client is None:
        return None
    address = request.client.host
    if not settings.trusts_proxy(address):
        return address
    forwarded = [e.strip() for e in ",".join(request.headers.getlist("x-forwarded-for")).split(",")]
    for entry in reversed([e for e in forwarded if e]):
        address = entry[:MAX_ADDRESS_LENGTH]
        if not settings.trusts_proxy(address):
            break
    return address
