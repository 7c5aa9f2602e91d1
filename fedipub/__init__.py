"""fedipub: a self-hosted, federated ActivityPub publishing server."""

__version__ = "0.1.0"
