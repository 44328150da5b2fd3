"""One router per resource: :mod:`~api.routes.optout` (one-click unsubscribe), :mod:`~api.routes.health`,
:mod:`~api.routes.predict` (churn predictions), :mod:`~api.routes.model` (the serving model's card)."""
