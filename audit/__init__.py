"""The append-only audit log. Call audit.record(...) for every security-relevant action."""


def record(*args, **kwargs):
    # Imported lazily: this package is imported before Django's app registry is ready.
    from audit.log import record as _record

    return _record(*args, **kwargs)
