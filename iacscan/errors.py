"""The one exception type the CLI turns into a user-facing message and exit code 2.

Everything else that escapes a command is a bug in iacscan (exit 3); rulesets raise
their own ``RulesetError``, which the CLI treats like a ``UserError``.
"""
from __future__ import annotations


class UserError(Exception):
    """A mistake the user can fix (a missing path, an unknown rule id): exit 2, no traceback."""
