"""Stand-in servers for the outside APIs hotro talks to (Meta Graph API, Zalo OpenAPI).

Each one runs on 127.0.0.1 in a thread, speaks the documented wire format, checks
what it gets the way the real service would (tokens, required fields, limits) and
records every request, so tests can assert on what hotro sent.
"""
