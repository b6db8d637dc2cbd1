"""The edges: HTTP API, command line, scheduler, relays. The composition root lives here."""
