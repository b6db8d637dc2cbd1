"""The read side: projections of the ledger's log into query tables."""
