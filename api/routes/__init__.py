"""One router per resource: :mod:`api.routes.optout` (one-click unsubscribe)."""
