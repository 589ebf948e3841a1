"""The rights of GDPR arts. 16-21 carried out within a request: rectification, erasure plans, objection,
restriction, consent, portability, refusals, decision letters and the disclosure ledger, and the guards that
stop a request while a right is pending. May import crm, registers, privacy.requests and privacy.retention."""
