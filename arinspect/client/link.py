"""A headset's network link that can be cut: simulated offline stretches for ``replay``.

`SwitchableTransport` wraps httpx's transport; while ``online`` is False every request
fails with `httpx.ConnectError` before anything is sent, exactly what a headset out of
Wi-Fi range sees, so `SyncClient` keeps its writes in the offline queue.
"""

from __future__ import annotations

import httpx


class SwitchableTransport(httpx.BaseTransport):
    """An httpx transport with an on/off switch (``online``)."""

    def __init__(self, inner: httpx.BaseTransport | None = None) -> None:
        self.inner = inner or httpx.HTTPTransport()
        self.online = True

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Send the request, or raise `httpx.ConnectError` while offline."""
        if not self.online:
            raise httpx.ConnectError("simulated offline stretch: no network", request=request)
        return self.inner.handle_request(request)

    def close(self) -> None:
        """Close the wrapped transport."""
        self.inner.close()


def switchable_client(
    base_url: str, timeout_s: float = 10.0
) -> tuple[httpx.Client, SwitchableTransport]:
    """An ``httpx.Client`` for ``base_url`` whose link can be cut, and its switch."""
    transport = SwitchableTransport()
    return httpx.Client(base_url=base_url, timeout=timeout_s, transport=transport), transport
