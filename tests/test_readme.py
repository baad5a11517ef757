"""The README documents every setting the service reads."""

from pathlib import Path

from vetting.config import SETTINGS

README = Path(__file__).resolve().parents[1] / "README.md"


def test_every_setting_is_in_the_readme_table():
    text = README.read_text(encoding="utf-8")
    for setting in SETTINGS:
        assert f"| `{setting.name}` |" in text, setting.name
