"""The server: event loop, connections, dispatch and per-client state."""
