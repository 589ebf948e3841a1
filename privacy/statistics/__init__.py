"""Register statistics for the register owner, read-only, with small cells suppressed.
May import crm, registers and privacy.requests.models."""
