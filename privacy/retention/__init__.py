"""Retention: the policies per register, legal holds, the purge run and the redaction of audit trails.
May import crm, registers and privacy.requests (its models, and the workflow's purger of closed request files)."""
