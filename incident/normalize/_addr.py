"""Small readers the cloud and SaaS adapters share: addresses that may be host names, words
that name nobody, and the four-level severity words vendors use."""

from __future__ import annotations

import ipaddress

# Where a value names nobody ("unknown" actor, Windows' "-").
PLACEHOLDERS = frozenset({"", "-", "n/a", "null", "none", "unknown"})


def ip_or_none(value: str | None) -> str | None:
    """The value when it is an IP address; None for host names ("ec2.amazonaws.com"), CIDRs and words."""
    if value is None:
        return None
    try:
        ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    return value.strip()


def person(value: str | None) -> str | None:
    if value is None or value.strip().lower() in PLACEHOLDERS:
        return None
    return value
