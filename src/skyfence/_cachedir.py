"""Where numba keeps compiled kernels when it cannot write beside the package.

numba caches ``cache=True`` functions in ``__pycache__`` next to their source,
else in the user's cache folder under ``HOME``. Installed for all users (the
package folder owned by root) and run by a user with no writable ``HOME`` (a
service account, a container), neither works and numba fails at import. Then
``NUMBA_CACHE_DIR`` is pointed at the first writable of the user's cache
folder and the temporary folder.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def ensure_numba_cache() -> str | None:
    """Set ``NUMBA_CACHE_DIR`` if numba could not cache beside the package; the folder chosen, if any."""
    if os.environ.get("NUMBA_CACHE_DIR") or _writable(Path(__file__).parent):
        return None
    uid = os.getuid() if hasattr(os, "getuid") else "user"
    candidates = [Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "skyfence" / "numba",
                  Path(tempfile.gettempdir()) / f"skyfence-numba-{uid}"]
    for folder in candidates:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except (OSError, RuntimeError):
            continue
        if _writable(folder):
            os.environ["NUMBA_CACHE_DIR"] = str(folder)
            return str(folder)
    return None


def _writable(folder: Path) -> bool:
    try:
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False
