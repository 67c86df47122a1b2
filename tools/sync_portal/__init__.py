"""A stand-in for the extranet portal (SYNC.md from the other side), for tests and the demo.

It is the node ``portal``: its own Ed25519 key, its own outbound stream (kept until the
intranet acks it), its ``applied_upto`` of the intranet's stream, its quarantine. It speaks the
file ferry (``Portal.step_files``: it reads the intranet's ``out/`` and writes into its ``in/``)
and the HTTP gateway (``Portal.serve_http``). It imports ``shared`` and never ``server``
(an import-linter contract), so the server's tests exchange bundles with a peer and not with
themselves. docs/sync.md "The portal stand-in" describes it; ``python -m tools.sync_portal``
is its command line.
"""

from tools.sync_portal.gateway import Interference
from tools.sync_portal.portal import FerryReport, Material, Outcome, Portal

__all__ = ["FerryReport", "Interference", "Material", "Outcome", "Portal"]
