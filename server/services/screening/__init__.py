"""Background screening (人员背景审查) of the people in an application (docs/glossary.md:
Background screening).

Level one may approve only when every person of the current round was checked in every category
without a hit; a hit allows only rejection; a failed check allows neither until screening is run
again. ``summary`` is what the approval gate reads.
"""

from server.services.screening.base import Finding, PersonQuery, ScreeningProvider
from server.services.screening.providers import provider_for
from server.services.screening.remote import HttpScreeningProvider
from server.services.screening.runs import run_screening
from server.services.screening.summary import (
    PersonScreening,
    ScreeningSummary,
    summary,
    to_public,
)
from server.services.screening.watchlist import WatchListProvider
from server.services.screening.watchlist_import import (
    ImportReport,
    import_watch_list,
    write_template,
)

__all__ = [
    "Finding",
    "HttpScreeningProvider",
    "ImportReport",
    "PersonQuery",
    "PersonScreening",
    "ScreeningProvider",
    "ScreeningSummary",
    "WatchListProvider",
    "import_watch_list",
    "provider_for",
    "run_screening",
    "summary",
    "to_public",
    "write_template",
]
