"""``sgss-server certificate …`` through the real entry point, on SQLite and PostgreSQL:
``init-db`` makes the signing key, and a card verifies offline until it is revoked."""

import os
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import select

from server.config import Settings
from server.db.certificate_models import CertificateSigningKey
from server.db.models import Org, User
from server.db.session import create_db_engine, create_session_factory
from server.services import audit
from server.services.authz import ALL_SCOPE, Principal
from server.services.certificates import Holder, issue_certificate
from server.services.certificates.keys import CertificateKeys
from server.services.certificates.lifecycle import revoke
from shared.certificates import Gender
from tests.server.test_cli import Cli, cli  # noqa: F401  (the fixture)
from tests.server.world import _valid_id


def _issue(settings: Settings) -> tuple[int, str]:
    engine = create_db_engine(settings.database_url)
    with create_session_factory(engine)() as session:
        org_id = session.scalar(select(Org.id).where(Org.parent_id.is_(None)))
        assert org_id is not None
        card = issue_certificate(
            session,
            CertificateKeys(settings.data_dir),
            now=datetime.now(UTC),
            actor=audit.CLI_ACTOR,
            holder=Holder("张三", Gender.male, date(1990, 1, 1), _valid_id("330102")),
            issuing_org_id=org_id,
            application_id=None,
        )
        session.commit()
        found = (card.id, card.payload)
    engine.dispose()
    return found


def _revoke(settings: Settings, certificate_id: int) -> None:
    engine = create_db_engine(settings.database_url)
    with create_session_factory(engine)() as session:
        user_id = session.scalar(select(User.id).where(User.username == "chief"))
    assert user_id is not None
    principal = Principal(
        user_id=user_id,
        username="cli",
        name="测试",
        org_id=1,
        permissions=frozenset(),
        scope=ALL_SCOPE,
        scope_kinds=frozenset(),
    )
    with create_session_factory(engine)() as session:
        revoke(
            session,
            principal,
            certificate_id,
            now=datetime.now(UTC),
            version=None,
            reason="违法犯罪",
            basis="《保安服务管理条例》第四十三条",
        )
        session.commit()
    engine.dispose()


def test_keys_verify_offline_and_revocation(cli: Cli, settings: Settings, tmp_path: Path) -> None:  # noqa: F811
    cli("init-db")
    cli("create-admin", "--username", "chief")
    folder = settings.data_dir / "certificate-keys"
    [key_file] = list(folder.glob("*.pem"))
    if os.name == "posix":
        assert key_file.stat().st_mode & 0o777 == 0o600
    assert "已存在" in cli("certificate", "keys", "init").stdout
    certificate_id, payload = _issue(settings)

    keys_file, list_file = tmp_path / "keys.json", tmp_path / "status.json"
    cli("certificate", "keys", "export-public", str(keys_file))
    cli("certificate", "status-list", str(list_file))
    out = cli(
        "certificate",
        "verify",
        payload,
        "--public-keys",
        str(keys_file),
        "--status-list",
        str(list_file),
    ).stdout
    assert "完整性：内容完整，签名有效" in out and "结论：证书有效" in out

    unknown = cli("certificate", "verify", payload, "--public-keys", str(keys_file), ok=False)
    assert "证书状态：状态未知" in unknown.stdout  # no list: never "valid"
    cut = cli("certificate", "verify", payload[:-5], "--public-keys", str(keys_file), ok=False)
    assert "被截断" in cut.stdout

    _revoke(settings, certificate_id)
    cli("certificate", "status-list", str(list_file))
    revoked = cli(
        "certificate",
        "verify",
        payload,
        "--public-keys",
        str(keys_file),
        "--status-list",
        str(list_file),
        ok=False,
    ).stdout
    assert "证书状态：已吊销" in revoked and "结论：证书已吊销" in revoked

    rotated = cli("certificate", "keys", "rotate").stdout
    assert "已启用新的证书签名密钥" in rotated
    cli("certificate", "keys", "export-public", str(keys_file))
    engine = create_db_engine(settings.database_url)
    with create_session_factory(engine)() as session:
        rows = session.scalars(
            select(CertificateSigningKey).order_by(CertificateSigningKey.id)
        ).all()
        assert [r.valid_until is None for r in rows] == [False, True]
    engine.dispose()
    assert len(list(folder.glob("*.pem"))) == 2
    # the old key still vouches for what it signed
    again = cli("certificate", "verify", payload, "--public-keys", str(keys_file), ok=False).stdout
    assert "签名密钥：发证时签名密钥有效" in again
