"""SYNC.md's PostgreSQL trap: a record must never be published below one still invisible.

Twenty-four writers each emit records in transactions of their own and wait a random moment
before committing (so commits come out of insertion order), while numbering runs over and over
and a reader keeps reading "numbered records with seq > the last I read", as a sender does. At
the end the reader must have seen every record exactly once, in seqs 1…N without a hole.
"""

import random
import threading

import pytest
from sqlalchemy import select

from server.db.session import create_db_engine, create_session_factory
from server.db.sync_models import SyncOutboxRecord
from server.services.sync.outbox import emit, number_pending
from tests.conftest import _reset_postgres
from tests.server.sync_fakes import T0

WRITERS = 24
PER_WRITER = 15


@pytest.mark.postgres
def test_concurrent_writers_never_publish_a_seq_below_an_invisible_record(
    pg_database: str,
) -> None:
    _reset_postgres(pg_database)
    engine = create_db_engine(pg_database, pool_size=WRITERS + 4)
    sessions = create_session_factory(engine)
    writers_done = threading.Event()
    errors: list[BaseException] = []

    def writer(index: int) -> None:
        rng = random.Random(index)
        try:
            for n in range(PER_WRITER):
                with sessions() as session:
                    emit(session, "test.trap", {"w": index, "n": n}, at=T0)
                    session.flush()  # the row (and its id) exists now, invisible until commit
                    threading.Event().wait(rng.uniform(0, 0.02))
                    session.commit()
        except BaseException as err:
            errors.append(err)

    def numberer() -> None:
        try:
            while not writers_done.is_set():
                with sessions() as session:
                    number_pending(session)
                    session.commit()
        except BaseException as err:
            errors.append(err)

    seen: list[tuple[int, str]] = []

    def read_new() -> None:
        last = seen[-1][0] if seen else 0
        with sessions() as session:
            rows = session.execute(
                select(SyncOutboxRecord.seq, SyncOutboxRecord.record_id)
                .where(SyncOutboxRecord.seq > last)
                .order_by(SyncOutboxRecord.seq)
            ).all()
        for seq, record_id in rows:
            assert seq is not None
            seen.append((seq, record_id))

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(WRITERS)]
    numbering = [threading.Thread(target=numberer) for _ in range(2)]
    for thread in [*threads, *numbering]:
        thread.start()
    while any(t.is_alive() for t in threads):
        read_new()
    for thread in threads:
        thread.join()
    writers_done.set()
    for thread in numbering:
        thread.join()
    with sessions() as session:
        number_pending(session)
        session.commit()
    read_new()
    engine.dispose()

    assert not errors, errors
    total = WRITERS * PER_WRITER
    assert [seq for seq, _ in seen] == list(range(1, total + 1))  # contiguous, each once
    assert len({record_id for _, record_id in seen}) == total
