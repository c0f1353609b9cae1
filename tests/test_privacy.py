"""Confidentiality: nothing a family typed is readable in the database files or the logs."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.app import configure_logging
from bot.config import Settings
from tests.conftest import COMMITTEE_CHAT, MEMBER, Harness, start_app, stop_app
from tests.fakes.telegram import FakeTelegram
from tests.flows import Answers, act, apply_and_consent, full_intake, script, submit

FAMILY = 404
CANARY = Answers(
    name="Canary Qasim Alnimr",
    phone="0791122334",
    area="Canaryville Heights",
    other="canary tumour treatment abroad",
    story="canary dialysis three times a week since my husband died",
)
SECRETS = (
    "Canary Qasim",
    "Qasim",
    "791122334",
    "Canaryville",
    "canary tumour",
    "dialysis",
    "husband died",
)
TOKEN = "123456:TEST-TOKEN-never-real"


def database_bytes(data_dir: Path) -> bytes:
    """Every byte of the database, its WAL and its shared-memory/journal files."""
    files = sorted(data_dir.glob("sanad.db*"))
    assert any(f.name == "sanad.db" for f in files)
    return b"".join(f.read_bytes() for f in files)


def assert_absent(blob: bytes, what: str) -> None:
    for secret in SECRETS:
        for encoding in ("utf-8", "utf-16-le"):
            assert secret.encode(encoding) not in blob, f"{secret!r} found in {what}"


async def test_database_files_hold_no_personal_answers(
    settings: Settings, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    configure_logging("DEBUG", (TOKEN,))  # the most talkative setting a committee can choose
    fake = FakeTelegram()
    app = await start_app(settings, fake)
    h = Harness(app, fake)
    await h.say(FAMILY, "/start")
    # A draft half way, a submitted case, a reveal: every kind of row is written.
    ref = await full_intake(h, FAMILY, CANARY)
    await h.press(MEMBER, rf"^cd:{ref}$", chat_id=COMMITTEE_CHAT)
    await h.say(FAMILY + 1, "/apply")
    await h.press(FAMILY + 1, r"^ic:y$")
    await h.press(FAMILY + 1, r":situation:o:orphans$")
    await h.press(FAMILY + 1, r":situation:o:other$")
    await h.press(FAMILY + 1, r":situation:d:$")
    await h.say(FAMILY + 1, CANARY.other)

    assert_absent(database_bytes(settings.data_dir), "the live database and its WAL")
    await stop_app(app)
    assert_absent(database_bytes(settings.data_dir), "the database after shutdown")

    output = caplog.text + "".join(capsys.readouterr())
    assert_absent(output.encode(), "the logs")
    assert TOKEN not in output and "TEST-TOKEN" not in output
    # The committee group saw the card and nothing else: no name, phone, area typed or the
    # family's own words.
    group = "".join(fake.texts(COMMITTEE_CHAT))
    assert_absent(group.encode(), "the committee group")


async def test_key_file_is_generated_with_owner_only_permissions(tmp_path: Path) -> None:
    from tests.conftest import make_settings

    settings = make_settings(tmp_path)  # no ENCRYPTION_KEY
    fake = FakeTelegram()
    app = await start_app(settings, fake)
    await stop_app(app)
    key_file = settings.key_file
    assert key_file.exists() and not key_file.is_relative_to(tmp_path)  # not beside the data
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "sanad.db").stat().st_mode & 0o777 == 0o600
    # The same key is used again on the next start: the data stays readable.
    app = await start_app(settings, FakeTelegram())
    h = Harness(app, fake)
    assert await h.services.intake.load(1) is None
    await stop_app(app)


async def test_wrong_key_cannot_read_drafts(settings: Settings, tmp_path: Path) -> None:
    from bot.errors import ConfigError
    from tests.conftest import make_settings

    fake = FakeTelegram()
    app = await start_app(settings, fake)
    h = Harness(app, fake)
    await h.say(FAMILY, "/apply")
    await h.press(FAMILY, r"^ic:y$")
    await stop_app(app)

    from cryptography.fernet import Fernet

    other = make_settings(tmp_path, ENCRYPTION_KEY=Fernet.generate_key().decode())
    # The key check value refuses the wrong key at start-up, before any draft is read.
    with pytest.raises(ConfigError, match="does not open the database"):
        await start_app(other, FakeTelegram())


def test_httpx_request_logging_is_silenced() -> None:
    configure_logging("DEBUG")
    assert logging.getLogger("httpx").getEffectiveLevel() >= logging.WARNING
    assert logging.getLogger("telegram.ext").getEffectiveLevel() >= logging.INFO


def test_token_is_redacted_from_any_record(caplog: pytest.LogCaptureFixture) -> None:
    configure_logging("INFO", (TOKEN,))
    logging.getLogger("sanad.test").warning("url was https://x/bot%s/getMe", TOKEN)
    assert TOKEN not in caplog.text and "[redacted]" in caplog.text


async def test_canary_is_absent_from_tracebacks_and_the_anonymised_export(
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Failures while a family's words are in flight, then the anonymised export."""
    caplog.set_level(logging.DEBUG)
    configure_logging("DEBUG", (TOKEN,))
    fake = FakeTelegram()
    app = await start_app(settings, fake)
    h = Harness(app, fake)
    try:
        # An exception whose message carries the answers (as a careless repr would) ...
        from bot.intake import IntakeService

        real_save = IntakeService.save
        failures = iter([True])

        async def failing_save(self: IntakeService, user_id: int, draft: object) -> None:
            if next(failures, False):
                raise ValueError(f"could not save {draft!r}")
            await real_save(self, user_id, draft)  # type: ignore[arg-type]

        await apply_and_consent(h, FAMILY)
        steps = script(CANARY)
        for action in steps[:3]:
            await act(h, FAMILY, action)
        monkeypatch.setattr(IntakeService, "save", failing_save)
        await h.say(FAMILY, CANARY.other)  # fails, and the family gets an apology
        assert "something went wrong" in fake.texts(FAMILY)[-1]
        monkeypatch.setattr(IntakeService, "save", real_save)
        for action in steps[3:]:  # the family sends it again, and goes on
            await act(h, FAMILY, action)
        ref = await submit(h, FAMILY)
        # ... and Telegram refusing the reply to the story, the most sensitive answer.
        h.fake.fail_next("sendMessage", 400, "Bad Request: chat not found")
        await h.say(FAMILY, CANARY.story)
        assert any(r.getMessage().startswith("Unhandled") for r in caplog.records)

        # The anonymised export: a member asks for it in private.
        await h.say(MEMBER, "/export")
        calls = await h.press(MEMBER, r"^ex:anon$")
        [document] = [c for c in calls if c.method == "sendDocument"]
        export = b"".join(f.content for f in document.files.values())
        assert ref.encode() not in export and b"\n" in export  # rows, but no reference
        assert_absent(export, "the anonymised export")
    finally:
        await stop_app(app)
    assert_absent(database_bytes(settings.data_dir), "the database")
    output = caplog.text + "".join(capsys.readouterr())
    assert "Unhandled ValueError" in output  # the failure is logged, by its type only
    assert_absent(output.encode(), "the logs and tracebacks")
    assert TOKEN not in output
