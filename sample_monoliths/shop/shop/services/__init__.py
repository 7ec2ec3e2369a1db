"""Business logic. Views, CLI commands and tasks call into these modules."""
