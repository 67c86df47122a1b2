"""Demo data: organisations, users, applications at every step and years of history, made
through the real services so the demo shows exactly what the engine would produce.

It sits above the services (it uses them) and below the CLI (``sgss-server demo-data``); the
API and the services never import it."""
