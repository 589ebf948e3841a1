"""Register statistics with small-cell suppression, read-only. May import crm, registers and privacy.requests.models."""
