"""Connection states: NEW until CONNECT is accepted, then CONNECTED, then CLOSED."""

NEW, CONNECTED, CLOSED = 0, 1, 2
