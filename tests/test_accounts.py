"""Accounts and tokens through the service and the CLI."""

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from tests.conftest import scratch_database
from vetting import migrate
from vetting.db import make_engine
from vetting.errors import Conflict, NotFound, PermissionDenied, ValidationError
from vetting.models import ApiToken
from vetting.services.accounts import check_password, create_account, hash_token
from vetting.services.actors import SystemActor

CLI = SystemActor("cli")


def test_token_is_shown_once_and_stored_hashed(session, make_association):
    assoc = make_association(code="CICX")
    created = create_account(session, CLI, email="Rev@Example.org", role="reviewer", association_code="cicx", password="pw-long-enough")
    assert created.token.startswith("vt_")
    token_row = session.scalar(select(ApiToken).where(ApiToken.account_id == created.account.id))
    assert token_row.token_hash == hash_token(created.token)
    assert created.token not in (token_row.token_hash, token_row.prefix)
    assert created.token.split("_")[1] == token_row.prefix
    assert created.account.email == "rev@example.org" and created.account.association_id == assoc.id
    assert created.account.password_hash != "pw-long-enough"
    assert check_password(created.account.password_hash, "pw-long-enough")
    assert not check_password(created.account.password_hash, "wrong")


def test_duplicate_email_is_a_conflict_with_the_existing_id(session):
    first = create_account(session, CLI, email="reg@example.org", role="registrar")
    with pytest.raises(Conflict) as err:
        create_account(session, CLI, email="REG@example.org", role="registrar")
    assert err.value.details["conflicting_id"] == first.account.id


def test_validation_names_each_field(session):
    with pytest.raises(ValidationError) as err:
        create_account(session, CLI, email="not-an-email", role="boss")
    assert set(err.value.errors) == {"email", "role"}
    with pytest.raises(ValidationError) as err:
        create_account(session, CLI, email="a@b.org", role="reviewer")
    assert "association" in err.value.errors
    with pytest.raises(NotFound):
        create_account(session, CLI, email="a@b.org", role="reviewer", association_code="NOPE")


def test_only_registrars_create_accounts(session, make_account):
    reviewer = make_account(role="reviewer")
    with pytest.raises(PermissionDenied):
        create_account(session, reviewer, email="x@y.org", role="registrar")


def test_cli_creates_an_account_and_prints_the_token(tmp_path):
    from vetting.cli import main

    with scratch_database(tmp_path, "acct") as url:
        engine = make_engine(url)
        migrate.upgrade(engine)
        env = {"VETTING_DATABASE_URL": url, "VETTING_INSTANCE_PATH": str(tmp_path / "i")}
        args = ["accounts", "create", "--role", "registrar", "--email", "cli@example.org"]
        result = CliRunner().invoke(main, args, env=env)
        assert result.exit_code == 0, result.output
        token = result.output.split("store it now): ")[1].strip()
        assert "password" not in result.output
        with engine.connect() as conn:
            stored = conn.scalar(select(ApiToken.token_hash))
        assert stored == hash_token(token)
        again = CliRunner().invoke(main, args, env=env)
        assert again.exit_code == 2 and "already exists" in again.output
        with_password = CliRunner().invoke(main, ["accounts", "create", "--role", "registrar", "--email", "pw@example.org",
                                                  "--password"], env=env)
        assert with_password.exit_code == 0, with_password.output
        password = with_password.output.split("password (shown once, store it now): ")[1].strip()
        from vetting.db import Database
        from vetting.services.accounts import authenticate_password

        database = Database(engine)
        with database.session() as session:
            assert authenticate_password(session, "pw@example.org", password).email == "pw@example.org"
        engine.dispose()


def test_every_command_has_help():
    from vetting.cli import main

    runner = CliRunner()

    def walk(cmd, path):
        result = runner.invoke(main, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert "Usage:" in result.output
        for name, sub in getattr(cmd, "commands", {}).items():
            walk(sub, [*path, name])

    walk(main, [])
