"""The HTTP schemas: what a command takes, what a query returns — a module per resource, as the routers are.

Requests refuse unknown fields. Amounts, scores and percentages are exact decimals: give them as JSON numbers
(parsed as ``Decimal``, never float — see :mod:`api.body`) or as strings; responses write them as strings.
Domain rules (fen precision, score ranges, weights, stages) are the ledger's to check, and its refusals come
back as problems with the ledger's own codes.

The OpenAPI document names each schema by its class alone while no two share a name: keep class names unique across
these modules (a second class of the same name would rename both in the document clients are generated from).
"""
