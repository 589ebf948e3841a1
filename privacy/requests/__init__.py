"""Data-subject requests from intake to answer: the public form, verification tokens, rate limits, the state
machine and its deadlines, the letters outbox and its sending, the access package. May import crm and registers,
never privacy.rights: the rights add their guards and ledger to the workflow at start-up (PrivacyConfig.ready)."""
