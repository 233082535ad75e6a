"""The web page and its API: the air picture against the agreement, incidents to acknowledge, replay.

``create_app`` builds the FastAPI application (REST under ``/api``, the websocket ``/ws``, the page
and the offline API docs); ``serve`` runs it on uvicorn. The page itself is built from ``frontend/``
into ``static/`` (``make web``) and committed, so running skyfence never needs npm or the internet.
"""

from skyfence.web.app import WebContext, create_app

__all__ = ["WebContext", "create_app"]
