"""A Homeward client written from docs/client.md alone, as a partner would.

Nothing here imports the server or the test helpers: its WebAuthn
authenticator, its sealing and its HTTP are its own (tests/test_openapi.py
checks the imports). tests/test_independent_client.py drives it against a
live server.
"""
