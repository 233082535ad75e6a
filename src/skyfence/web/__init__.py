"""The web page and its API: the air picture against the agreement, incidents to acknowledge, replay.

``create_app`` builds the FastAPI application (REST under ``/api``, the websocket ``/ws``, the page
and the offline API docs); ``serve`` runs it on uvicorn. The page itself is built from ``frontend/``
into ``static/`` (``make web``) and committed, so running skyfence never needs npm or the internet.

The names below load on first use: ``skyfence.web.users`` alone (``skyfence users``) does not load FastAPI and
the agreement's geometry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from skyfence.web.app import WebContext, create_app

__all__ = ["WebContext", "create_app"]


def __getattr__(name: str):
    if name not in __all__:
        raise AttributeError(f"module 'skyfence.web' has no attribute {name!r}")
    from skyfence.web import app

    return getattr(app, name)
