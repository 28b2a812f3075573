"""Homeward: an offline-first web app for reintegration partners."""
