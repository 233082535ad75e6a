"""Who is asking: the bearer token of a request, resolved to a user of the store (FastAPI dependencies)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from skyfence.web.users import User

bearer = HTTPBearer(auto_error=False, description="a token from `skyfence users add`")
ANONYMOUS = User("anonymous", "viewer", None)


def _unauthorised(text: str) -> HTTPException:
    return HTTPException(401, text, headers={"WWW-Authenticate": "Bearer"})


async def current_user(request: Request,
                       cred: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> User | None:
    """The user of the request's token; None without a token; 401 for a token nobody holds."""
    if cred is None:
        return None
    user = await request.app.state.ctx.user_of(cred.credentials)
    if user is None:
        raise _unauthorised("unknown token")
    return user


async def reader(request: Request, user: Annotated[User | None, Depends(current_user)]) -> User:
    """Anyone with a token reads; without one only when the server was started with ``--public``."""
    if user is not None:
        return user
    if request.app.state.ctx.public:
        return ANONYMOUS
    raise _unauthorised("a bearer token is needed (skyfence users add)")


async def writer(user: Annotated[User | None, Depends(current_user)]) -> User:
    """Every write needs a token of an officer or an admin."""
    if user is None:
        raise _unauthorised("a bearer token is needed to change an incident")
    if user.role not in ("officer", "admin"):
        raise HTTPException(403, f"{user.name} is a {user.role}: only officers and admins change incidents")
    return user


Reader = Annotated[User, Depends(reader)]
Writer = Annotated[User, Depends(writer)]
