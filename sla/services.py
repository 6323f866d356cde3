"""Writes of the SLA engine."""


def contract_ensure_for_demo(*, organisations) -> None:
    """Placeholder until service levels and contracts exist."""
