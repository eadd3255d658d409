"""Connection states: NEW until CONNECT is accepted (AUTHENTICATING while an enhanced
authentication exchange runs), then CONNECTED, then CLOSED."""

NEW, CONNECTED, CLOSED, AUTHENTICATING = 0, 1, 2, 3
