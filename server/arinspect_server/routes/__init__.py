"""HTTP and WebSocket routes; each handler is thin and calls one service function."""
