"""Models with ``keras.models`` names: ``Sequential``, ``Model``, ``load_model``."""

from typing import Any

from numkeras.models.model import Model
from numkeras.models.sequential import Sequential

__all__ = ["Model", "Sequential", "load_model", "save_model"]


def __getattr__(name: str) -> Any:
    # Saving needs zipfile/json/tempfile; import it on first use to keep `import numkeras` fast.
    if name in ("load_model", "save_model"):
        from numkeras.models import saving

        return getattr(saving, name)
    raise AttributeError(f"module 'numkeras.models' has no attribute {name!r}")
