"""The on-call console (ASGI): reads a projection of incident-events, writes only commands."""
