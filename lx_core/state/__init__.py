"""Durable state: small JSON rows with optimistic concurrency (Azure Table storage in Azure,
Azurite locally), and what is built on them (leases, checkpoints, the shared pace).

    base.py         the StateStore contract every backend fulfils, and the row rules
    memory.py       an in-process backend, for unit tests only
    azure_table.py  the Azure Table storage backend (azure-data-tables), ETags for concurrency
    lease.py        Lease: one owner at a time across every instance, with expiry and renewal
    factory.py      open_store(StateSettings): the configured backend
"""
