"""Data subject requests from intake to answer: the public form, verification tokens, rate limits, the state
machine with its deadlines, correspondence and the access package.
May import crm, registers and privacy.rights.guards."""
