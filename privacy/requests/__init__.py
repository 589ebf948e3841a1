"""Data-subject requests from intake to answer: the public form, verification tokens, rate limits, the state
machine and its deadlines, the letters outbox and its sending, the access package. May import crm, registers,
and from privacy.rights only its models and guards (the checks the workflow runs before a transition)."""
