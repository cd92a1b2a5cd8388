"""numkeras: a deep-learning library written from scratch on NumPy, with the Keras API."""

__version__ = "0.1.0"
