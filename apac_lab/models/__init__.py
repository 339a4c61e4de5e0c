"""Models: the APAC classifier and its baselines, and the listener autoencoder."""

from apac_lab.models.listener import EmbeddingClassifier, Listener

__all__ = ["EmbeddingClassifier", "Listener"]
