"""Which hosts are this machine's own: the one place where plain HTTP is acceptable."""

import ipaddress


def is_loopback(host: str) -> bool:
    """Only ``localhost`` and loopback addresses; any other name may resolve to anything."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
