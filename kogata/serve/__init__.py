"""The local server: OpenAI-compatible API, visits and charts over HTTP (`kogata serve`)."""

from kogata.serve.app import create_app
from kogata.serve.queue import ModelQueue, QueueFull
from kogata.serve.services import ServerConfig, Services

__all__ = ["ModelQueue", "QueueFull", "ServerConfig", "Services", "create_app"]
