"""The installable app: manifest, service worker, offline shell, client messages."""
