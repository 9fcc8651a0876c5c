"""What each CloudFormation file contributed to the estate, kept on disk between scans.

Decoding a template with cfn-lint (and importing cfn-lint, ~1.5 s) is most of the cost of
reading CloudFormation, so ``cloudformation.parse_documents`` keeps, per file that reached
the decoder, the small ``Estate`` that file added: the model ``build_template`` made (plus
the file name and source), the ``ParseError`` of a template that cannot be decoded, or
nothing at all for a YAML/JSON file that is not a template. A later scan with the same
file reuses it without decoding.

An entry (``iacscan.cache_store.EntryStore``, kind ``cfn``) is keyed by the SHA-256 of
the file's bytes, its path relative to the scan root (it is part of every uid and
location), the ``--parameters`` overrides and the limits that decide whether a file is
refused (``file-size``, ``depth``, ``values``, ``file-timeout``: a scan under other limits
could have refused the file, so it does not reuse the entry); its tag adds to
``parser_tag()`` (iacscan's version and the source of every parser module, this one and
``cloudformation.py`` included) the codec's ``FORMAT``, a hash of ``model.py``,
``model_codec.py`` and ``model_codegen.py`` and the versions of cfn-lint, PyYAML and Python.
Files refused by a limit, a timeout or an internal error are never kept. Entries are
decoded with ``model_codec`` (checked types, model classes only); anything wrong with one
is a miss.
"""
from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import re
import sys
from pathlib import Path

from iacscan import model, model_codec, model_codegen
from iacscan.cache import parser_tag
from iacscan.cache_store import EntryStore
from iacscan.limits import current
from iacscan.model import Estate

#: Bump when the layout of an entry changes.
FORMAT = 1
KIND = "cfn"


@functools.lru_cache(maxsize=1)
def tag() -> str:
    """``parser_tag()`` plus the model and its codec (not parser modules, yet they shape entries)
    and the versions of the decoder (cfn-lint, PyYAML) and of Python."""
    digest = hashlib.sha256()
    for module in (model, model_codec, model_codegen):
        try:
            digest.update(Path(str(module.__file__)).read_bytes() + b"\0")
        except OSError:
            digest.update(b"unreadable\0")
    decoder = f"cfnlint-{_version('cfnlint', 'version.py')}/yaml-{_version('yaml', '__init__.py')}"
    return (f"{parser_tag()}/cfn{FORMAT}/{model_codec.FORMAT}/model-{digest.hexdigest()[:16]}/{decoder}"
            f"/py{sys.version_info[0]}.{sys.version_info[1]}")


def _version(package: str, file: str) -> str:
    """A package's ``__version__`` read from its source, without importing it (cfn-lint: ~1.5 s)."""
    try:
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.origin:
            return "none"
        text = (Path(spec.origin).parent / file).read_text(encoding="utf-8")
    except (OSError, ImportError, ValueError, UnicodeDecodeError):
        return "unknown"
    found = re.search(r"""^__version__\s*=\s*['"]([^'"]+)['"]""", text, re.MULTILINE)
    return found.group(1) if found else "h" + hashlib.sha256(text.encode()).hexdigest()[:12]


class TemplateCache:
    """Per-file contributions of CloudFormation files, in ``directory`` (see the module docstring)."""

    def __init__(self, directory: Path, overrides: dict[str, str]) -> None:
        self.store = EntryStore(directory, KIND, tag())
        limits = current()
        self._context = json.dumps({"overrides": overrides, "file_size": limits.file_size,
                                    "depth": limits.depth, "values": limits.values,
                                    "file_timeout": limits.file_timeout},
                                   sort_keys=True, ensure_ascii=False)

    def key(self, raw: bytes, rel: str) -> str:
        """The entry key of a file's bytes at ``rel``."""
        return json.dumps([hashlib.sha256(raw).hexdigest(), rel, self._context], ensure_ascii=False)

    def get(self, key: str) -> Estate | None:
        """The contribution stored under ``key``, or None (missing, corrupt, from another version)."""
        data = self.store.read(key)
        if data is None:
            return None
        try:
            found = model_codec.decode(data, Estate)
        except model_codec.CodecError:
            return None
        return found if isinstance(found, Estate) else None

    def put(self, key: str, contribution: Estate) -> bool:
        """Keep ``contribution`` when it survives an exact round trip; False when not kept."""
        try:
            data = model_codec.encode(contribution, Estate)
            if model_codec.decode(data, Estate) != contribution:
                return False
        except model_codec.CodecError:
            return False
        return self.store.write(key, data)
