"""内外网数据同步 on the server (docs/sync.md): the outbound stream (``outbox``), the inbound
applier (``inbound``), the record types each way (``records_out``, ``records_in``), the
transports (``transports``), this node's and the peer's keys (``keys``) and one cycle
(``cycle``). The bundle codec itself is in ``shared.sync``.
"""
