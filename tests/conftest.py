"""Test-session settings shared by every test."""
from __future__ import annotations

import os
import tempfile

# The CLI keeps a parse cache in the user's cache directory; tests must not write there.
# Tests that exercise the cache set their own directory with monkeypatch.
os.environ.setdefault("IACSCAN_CACHE_DIR", tempfile.mkdtemp(prefix="iacscan-test-cache-"))
