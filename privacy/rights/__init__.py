"""The rights of GDPR arts. 16-21 carried out within a request: rectification, erasure, objection, restriction,
consent, portability, refusals, decision letters and the disclosure ledger. May import crm, registers,
privacy.requests and privacy.retention."""
