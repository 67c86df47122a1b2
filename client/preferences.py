"""What the workstation remembers: server address, last username, the CA certificate that signs
the server's, window state (QSettings), and — only when asked — a session token in the OS
credential store (keyring), never a password."""

import contextlib

from PySide6.QtCore import QByteArray, QSettings

KEYRING_SERVICE = "sgss-desk"


class Preferences:
    def __init__(self, settings: QSettings | None = None) -> None:
        self.qsettings = settings or QSettings("SGSS", "sgss-desk")

    def _text(self, key: str, default: str = "") -> str:
        value = self.qsettings.value(key, default)
        return str(value) if value is not None else default

    @property
    def server_url(self) -> str:
        return self._text("signin/server", "http://127.0.0.1:8700")

    @server_url.setter
    def server_url(self, value: str) -> None:
        self.qsettings.setValue("signin/server", value)

    @property
    def ca_certificate(self) -> str:
        """The bureau's CA certificate (a PEM file) that signs the server's TLS certificate;
        empty: the usual public CAs. Set by an administrator (``sgss-desk --ca-cert``) or
        deployed with the installer, never asked of a clerk."""
        return self._text("tls/ca_certificate")

    @ca_certificate.setter
    def ca_certificate(self, value: str) -> None:
        self.qsettings.setValue("tls/ca_certificate", value)

    @property
    def tls_verify(self) -> bool | str:
        """What ``ApiClient(verify=...)`` takes: the CA file, or ``True`` for the public CAs."""
        return self.ca_certificate or True

    @property
    def allow_insecure_http(self) -> bool:
        """Plain ``http://`` to a server on another machine, allowed by an administrator
        (``sgss-desk --allow-insecure-http``) for a network without TLS; off by default.
        Loopback (the embedded demo) is always allowed."""
        return self._text("tls/allow_insecure_http", "false").lower() == "true"

    @allow_insecure_http.setter
    def allow_insecure_http(self, value: bool) -> None:
        self.qsettings.setValue("tls/allow_insecure_http", "true" if value else "false")

    @property
    def username(self) -> str:
        return self._text("signin/username")

    @username.setter
    def username(self, value: str) -> None:
        self.qsettings.setValue("signin/username", value)

    def geometry(self, key: str) -> QByteArray | None:
        value = self.qsettings.value(f"geometry/{key}")
        return value if isinstance(value, QByteArray) else None

    def set_geometry(self, key: str, value: QByteArray) -> None:
        self.qsettings.setValue(f"geometry/{key}", value)

    # -- lists: the sort and the page size each list was left with ------------------------------
    def table_sort(self, key: str) -> str | None:
        return self._text(f"table/{key}/sort") or None

    def set_table_sort(self, key: str, sort: str | None) -> None:
        self.qsettings.setValue(f"table/{key}/sort", sort or "")

    def page_size(self, key: str, default: int) -> int:
        try:
            return int(self.qsettings.value(f"table/{key}/page_size", default))
        except (TypeError, ValueError):
            return default

    def set_page_size(self, key: str, size: int) -> None:
        self.qsettings.setValue(f"table/{key}/page_size", size)

    # -- remembered sessions ---------------------------------------------------------------
    @staticmethod
    def _account(server: str, username: str) -> str:
        return f"{username}@{server}"

    # keyring loads when a token is first asked for, not with the sign-in window
    def remembered_token(self, server: str, username: str) -> str | None:
        import keyring.errors

        try:
            return keyring.get_password(KEYRING_SERVICE, self._account(server, username))
        except keyring.errors.KeyringError:
            return None

    def remember_token(self, server: str, username: str, token: str) -> None:
        import keyring.errors

        # Without a credential store on this workstation the clerk simply signs in each time.
        with contextlib.suppress(keyring.errors.KeyringError):
            keyring.set_password(KEYRING_SERVICE, self._account(server, username), token)

    def forget_token(self, server: str, username: str) -> None:
        import keyring.errors

        with contextlib.suppress(keyring.errors.KeyringError):
            keyring.delete_password(KEYRING_SERVICE, self._account(server, username))
