"""Ways in: the HTTP API, the command line and the webhook worker's runner. Each stays
thin: it parses, calls one service through `bootstrap.build()`, and renders."""
