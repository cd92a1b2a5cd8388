"""Models with ``keras.models`` names: ``Sequential``, ``Model``, ``load_model``."""

from numkeras.models.model import Model
from numkeras.models.saving import load_model, save_model
from numkeras.models.sequential import Sequential

__all__ = ["Model", "Sequential", "load_model", "save_model"]
