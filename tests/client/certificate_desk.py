"""A real server with 保安员证 to print: the test server of ``tests.served`` (its database, its
administrator) with a data folder of its own holding the signing key and the photos, and cards
issued through ``server.services.certificates.issue`` — what the 制证审批 step calls — straight
into its database, as that step will."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import select

from client.embedded import EmbeddedServer
from server.clock import SystemClock
from server.db.models import Org
from server.db.session import create_db_engine, create_session_factory
from server.services import audit, bootstrap
from server.services.certificates import Holder, issue_certificate
from server.services.certificates.keys import CertificateKeys
from server.services.materials.store import MaterialStore
from shared.approvals import MaterialKind
from shared.certificates import Gender
from tests.card_faces import portrait
from tests.served import CHEAP_ARGON, init_with_admin
from tests.server.world import _valid_id


@dataclass
class CertificateServer:
    url: str
    database_url: str
    data_dir: Path

    def issue(self, name: str, *, photo: bool = True, seed: int = 0) -> int:
        """One card at the province root, with a placeholder portrait or without a photo."""
        engine = create_db_engine(self.database_url)
        try:
            with create_session_factory(engine)() as session:
                photo_ref = None
                if photo:
                    store = MaterialStore(self.data_dir / "materials")
                    photo_ref = store.put(
                        [portrait(seed)], max_bytes=10**7, classify=lambda _h: MaterialKind.jpeg
                    ).sha256
                root = session.scalar(select(Org.id).where(Org.parent_id.is_(None)))
                assert root is not None
                card = issue_certificate(
                    session,
                    CertificateKeys(self.data_dir),
                    now=SystemClock().now(),
                    actor=audit.CLI_ACTOR,
                    holder=Holder(
                        name=name,
                        gender=Gender.male if seed % 2 == 0 else Gender.female,
                        birth_date=date(1990, 3, 7),
                        id_number=_valid_id("330106", "19900307", f"{seed % 1000:03d}"),
                        photo_ref=photo_ref,
                    ),
                    issuing_org_id=root,
                    application_id=None,
                    issuing_authority="浙江省公安厅",
                )
                session.commit()
                return card.id
        finally:
            engine.dispose()


def serve_certificates(folder: Path) -> Iterator[CertificateServer]:
    """``init-db`` with the signing key in ``folder/data``, then ``sgss-server serve``."""
    database_url = f"sqlite:///{folder / 'sgss.db'}"
    data_dir = folder / "data"
    init_with_admin(database_url)
    engine = create_db_engine(database_url)
    try:
        with create_session_factory(engine)() as session:
            bootstrap.init_db(
                engine,
                session,
                now=SystemClock().now(),
                province="330000",
                certificate_keys=CertificateKeys(data_dir),
            )
    finally:
        engine.dispose()
    embedded = EmbeddedServer(database_url, env={**CHEAP_ARGON, "SGSS_DATA_DIR": str(data_dir)})
    try:
        yield CertificateServer(embedded.start(), database_url, data_dir)
    finally:
        embedded.stop()
