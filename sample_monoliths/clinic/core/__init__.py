"""The clinic's one application: everything from patients to billing."""
