"""Process-wide sentinels that survive pickling by reference."""


class _RemovedType:
    """The type of REMOVED: a notice_update fn returns it to delete the key."""

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "REMOVED"

    def __reduce__(self):
        return (_removed, ())


def _removed():
    return REMOVED


REMOVED = _RemovedType()
