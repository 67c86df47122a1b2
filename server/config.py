"""Settings from the environment (prefix ``SGSS_``) with safe defaults for development."""

from pathlib import Path
from typing import Literal

from platformdirs import user_data_dir
from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.certificates import DEFAULT_NUMBER_FORMAT, format_number


def default_database_url() -> str:
    folder = Path(user_data_dir("sgss", appauthor=False))
    return f"sqlite:///{folder / 'sgss.db'}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SGSS_", env_file=None, extra="ignore")

    environment: Literal["development", "production"] = "development"
    database_url: str = Field(default_factory=default_database_url)
    data_dir: Path = Field(default_factory=lambda: Path(user_data_dir("sgss", appauthor=False)))

    # capacity, sized together (server/api/admission.py says why): as many requests use the
    # database at once as the pool has connections; the others queue, holding no thread, for at
    # most db_queue_seconds (then 503 SERVER_BUSY with Retry-After); the worker threads must be
    # at least as many as the connections
    db_connections: int = Field(default=10, ge=1)
    worker_threads: int = Field(default=40, ge=1)
    db_queue_seconds: float = Field(default=10.0, gt=0)
    # SQLite only (docs/DURABILITY.md): "full" makes every commit durable before it returns
    # (an fsync per transaction); "normal" (WAL) survives a crash of the server but a power
    # cut may undo the last transactions. PostgreSQL always commits durably.
    sqlite_synchronous: Literal["full", "normal"] = "full"

    # authentication
    lockout_threshold: int = 5
    lockout_minutes: int = 15
    token_idle_minutes: int = 30
    token_absolute_hours: int = 12
    verification_code_minutes: int = 5
    verification_code_interval_seconds: int = 60
    # sign-in throttle, per server process (server/services/throttle.py): failed or unfinished
    # sign-ins admitted per client address and per username within the sliding window; the
    # next answer 429 with Retry-After. The lockout above is in the database, for all processes.
    signin_throttle_window_seconds: int = Field(default=300, ge=1)
    signin_throttle_per_address: int = Field(default=30, ge=1)
    signin_throttle_per_account: int = Field(default=10, ge=1)
    # argon2id cost; the defaults follow RFC 9106's second recommended option
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    argon2_parallelism: int = 4
    # password hashes computed at once per process, each taking argon2_memory_kib of memory;
    # further sign-ins wait for their turn (they are not refused)
    password_hash_concurrency: int = Field(default=4, ge=1)

    # notifications: "log" writes messages to the server log (development only)
    notification_sender: Literal["log", "http"] = "log"
    sms_gateway_url: str | None = None

    # request bodies: a JSON body may be this large (a workflow definition of 200,000
    # characters is the largest one sent); file uploads have their own limits below
    request_max_bytes: int = 2 * 1024 * 1024

    # application materials: bytes under data_dir/materials, named by their SHA-256
    material_max_bytes: int = 20 * 1024 * 1024

    # watch-list import (xlsx or csv): the file, the XML an xlsx unpacks to, and its data rows
    import_max_bytes: int = 10 * 1024 * 1024
    import_max_unpacked_bytes: int = 50 * 1024 * 1024
    import_max_rows: int = 100_000

    # background screening: "watchlist" checks the imported local list; "http" asks the
    # police data service at screening_url
    screening_provider: Literal["watchlist", "http"] = "watchlist"
    screening_url: str | None = None
    screening_timeout_seconds: float = 10.0

    # issued documents: the HMAC key that signs every licence and certificate (its digest and the
    # QR code's verification code). Unset, the key is 32 random bytes kept in
    # data_dir/document-secret.key, made on first use; every server instance must see the same
    # key, as they already share data_dir for the materials. Changing it makes every document
    # issued before fail verification.
    document_secret: SecretStr | None = None

    # 保安员证 (docs/certificates.md): the numbering rule of this province (fields province,
    # region, year, serial), how long an exported status list may be trusted, and the public
    # lookup's rate per client address (per process, like the sign-in throttle)
    certificate_number_format: str = DEFAULT_NUMBER_FORMAT
    certificate_status_list_ttl_seconds: int = Field(default=86400, ge=60, le=30 * 86400)
    certificate_lookup_per_address: int = Field(default=30, ge=1)
    certificate_lookup_window_seconds: int = Field(default=300, ge=1)

    # 内外网数据同步 (docs/sync.md): off unless a transport is set. "files": bundles written to
    # sync_dir/out and read from sync_dir/in (a file ferry copies between them); "http": the
    # portal's gateway at sync_url (only the intranet calls out, TLS verified, retried)
    sync_transport: Literal["files", "http"] | None = None
    sync_dir: Path | None = None
    sync_url: str | None = None
    sync_http_timeout_seconds: float = Field(default=30.0, gt=0)
    sync_http_attempts: int = Field(default=4, ge=1)
    # the CA certificate(s) (PEM) that sign the gateway's TLS certificate, when not the system's
    # authorities; verification itself is never off
    sync_ca_file: Path | None = None

    # serving: HTTPS with these PEM files (the bureau's CA signs the certificate); without them
    # ``serve`` listens only on loopback unless plain HTTP is allowed explicitly (a TLS proxy
    # in front)
    tls_cert: Path | None = None
    tls_key: Path | None = None
    allow_plain_http: bool = False
    # one log line per request from ``serve`` (uvicorn's access log). Off by default: a line
    # per request is I/O on every request, and every change is in the audit log anyway
    access_log: bool = False

    @property
    def database_kind(self) -> str:
        return "postgresql" if self.database_url.startswith("postgresql") else "sqlite"

    @model_validator(mode="after")
    def _threads_for_every_connection(self) -> "Settings":
        if self.worker_threads < self.db_connections:
            raise ValueError(
                f"SGSS_WORKER_THREADS（{self.worker_threads}）不得少于 "
                f"SGSS_DB_CONNECTIONS（{self.db_connections}）：每个占用数据库连接的请求都须有线程可用"
            )
        return self

    @model_validator(mode="after")
    def _certificate_number_rule(self) -> "Settings":
        rule = self.certificate_number_format
        if "{serial" not in rule:
            raise ValueError("SGSS_CERTIFICATE_NUMBER_FORMAT 须包含 {serial}")
        format_number(rule, region_code="330000", year=2026, serial=1)  # ValueError if unusable
        return self

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> "Settings":
        if self.environment != "production":
            return self
        problems = []
        if "SGSS_DATABASE_URL" not in _explicit_env() and self.database_kind == "sqlite":
            problems.append("生产环境须显式设置 SGSS_DATABASE_URL")
        if self.notification_sender == "log":
            problems.append("生产环境不能把短信验证码写入日志（SGSS_NOTIFICATION_SENDER=log）")
        if self.notification_sender == "http" and not self.sms_gateway_url:
            problems.append("使用短信网关时须设置 SGSS_SMS_GATEWAY_URL")
        if self.screening_provider == "http" and not self.screening_url:
            problems.append("使用公安数据服务审查时须设置 SGSS_SCREENING_URL")
        secret = self.document_secret
        if secret is not None and len(secret.get_secret_value()) < 32:
            problems.append("SGSS_DOCUMENT_SECRET 至少须有 32 个字符")
        if self.argon2_memory_kib < 19456:
            problems.append("生产环境的 argon2 内存参数不得低于 19456 KiB")
        if problems:
            raise ValueError("；".join(problems))
        return self


def _explicit_env() -> set[str]:
    import os

    return {k for k in os.environ if k.startswith("SGSS_")}
