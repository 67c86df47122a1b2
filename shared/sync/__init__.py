"""The boundary protocol's bundle codec (docs/sync.md): pure functions both nodes run.

It lives in ``shared`` because the intranet server and the portal stand-in in the tests must
agree on every byte of it, and neither may import the other: ``keys`` (node names, Ed25519 key
facts), ``bundle`` (the records and manifest, and building a signed bundle), ``verify`` (every
check of SYNC.md "Receiving" step 1, answered with a refusal a person can read) and ``classify``
(where a verified bundle stands against ``applied_upto``). Nothing here touches a database, a
folder or the network.
"""
