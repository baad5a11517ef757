"""Where the files shipped beside the code live.

In a source checkout (and an editable install) ``migrations/`` and ``seeds/`` sit at the
repository root. A built wheel carries them inside the package under ``vetting/_bundled/``.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def bundled_path(name: str) -> Path:
    """Path of the shipped ``migrations`` or ``seeds`` folder."""
    inside = _PACKAGE / "_bundled" / name
    if inside.is_dir():
        return inside
    return _PACKAGE.parent / name
