"""Warehouse errors the CLI reports as they are, importable without loading any backend."""


class WarehouseBusyError(TimeoutError):
    """The warehouse file stayed locked for longer than the lock timeout."""
