"""Conformance of users' implementations: convention detection (more to come: issue 7)."""
