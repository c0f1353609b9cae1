"""The deployment files stay in step with the code: every setting documented, every path real."""

from __future__ import annotations

import re
from pathlib import Path

from bot.config import LOG_LEVELS

ROOT = Path(__file__).resolve().parent.parent
NOT_SETTINGS = {*LOG_LEVELS, "UTC"}


def settings_read_by_the_code() -> set[str]:
    """Every environment variable bot/config.py reads."""
    source = (ROOT / "bot" / "config.py").read_text()
    return set(re.findall(r'"([A-Z][A-Z_]+)"', source)) - NOT_SETTINGS


def test_every_setting_is_in_the_readme_table_and_the_env_example() -> None:
    names = settings_read_by_the_code()
    assert len(names) >= 20
    readme = (ROOT / "README.md").read_text()
    table = set(re.findall(r"^\| `([A-Z_]+)` \|", readme, flags=re.MULTILINE))
    assert names - table == set(), "add these to README.md, Configuration"
    assert table - names == set(), "README.md documents settings the code does not read"
    example = (ROOT / "deploy" / "sanad.env.example").read_text()
    listed = set(re.findall(r"^#? ?([A-Z][A-Z_]+)=", example, flags=re.MULTILINE))
    assert names - {"DATA_DIR"} <= listed, "add these to deploy/sanad.env.example"
    assert listed <= names


def test_service_and_image_start_the_real_commands() -> None:
    unit = (ROOT / "deploy" / "sanad.service").read_text()
    assert "ExecStart=/opt/sanad/.venv/bin/python -m bot run" in unit
    assert "ExecStartPre=-/opt/sanad/.venv/bin/python -m bot migrate" in unit
    assert "RestartPreventExitStatus=2" in unit  # EXIT_CONFIG: a person must fix it
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert 'CMD ["python", "-m", "bot", "run"]' in dockerfile
    assert "USER sanad" in dockerfile and "pybabel compile" in dockerfile
    from bot.__main__ import EXIT_CONFIG

    assert EXIT_CONFIG == 2
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert ".env" in ignored and "data/*" in ignored and "!data/forms/" in ignored
