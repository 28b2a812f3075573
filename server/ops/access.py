"""Who may read the metrics: administrators, or clients on a listed network.

The figures hold no personal data, but route counts and timings still tell
an outsider how the service is used; a scraper on the operations network
needs no sign-in, anyone else sees no such page.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from server.accounts.models import User
from server.enums import Role


def may_read_metrics(*, user: User | None, client_ip: str, networks: Iterable[str]) -> bool:
    if user is not None and user.role is Role.ADMIN:
        return True
    try:
        address = ipaddress.ip_address(client_ip)
    except ValueError:  # no client address (a test transport, a Unix socket)
        return False
    return any(address in ipaddress.ip_network(net, strict=False) for net in networks)
