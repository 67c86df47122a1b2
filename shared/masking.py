"""How personal numbers are shown to someone without the right to see them in full."""


def mask_id_number(value: str | None) -> str | None:
    """``330102199001011234`` → ``330102********1234`` (region and last four kept)."""
    if not value:
        return value
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_mobile(value: str | None) -> str | None:
    """``13812345678`` → ``138****5678``."""
    if not value:
        return value
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]
