"""The `vetting` command. Every command calls services; none holds business logic."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path
from typing import Any

import click
from flask import Flask

from vetting.errors import DomainError


class Context:
    """Builds the application lazily, so `--help` works without a database."""

    def __init__(self) -> None:
        self._app: Flask | None = None

    @property
    def app(self) -> Flask:
        if self._app is None:
            from vetting.app import create_app

            self._app = create_app()
        return self._app

    @property
    def database(self):  # noqa: ANN201
        return self.app.extensions["vetting"].database

    def close(self) -> None:
        if self._app is not None:
            self.database.dispose()


pass_ctx = click.make_pass_decorator(Context, ensure=True)


def _fail(exc: DomainError) -> None:
    click.secho(f"error: {exc.message}", fg="red", err=True)
    errors = exc.details.get("errors") if exc.details else None
    for field, messages in (errors or {}).items():
        for message in messages:
            click.echo(f"  {field}: {message}", err=True)
    sys.exit(2)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="vetting")
@click.pass_context
def main(ctx: click.Context) -> None:
    """vetting: association-run red/black lists of enterprises abroad.

    Configuration comes from VETTING_* environment variables (see the README).
    """
    obj = ctx.ensure_object(Context)
    ctx.call_on_close(obj.close)


def _write_credentials(instance: Path, credentials: list[tuple[str, str, str, str]]) -> Path:
    path = instance / "demo-credentials.txt"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, stat.S_IRUSR | stat.S_IWUSR)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write("# Demo accounts: e-mail, role, password, API token. Keep this file private.\n")
        for email, role, password, token in credentials:
            fh.write(f"{email}\t{role}\t{password}\t{token}\n")
    return path


def run_init(ctx: Context, demo: bool | None) -> None:
    from vetting.services.setup import initialize

    app = ctx.app
    use_demo = app.config["VETTING_DEMO"] if demo is None else demo
    try:
        result = initialize(ctx.database, Path(app.config["VETTING_SEEDS_PATH"]), demo=use_demo,
                            progress=lambda msg: click.echo(f"  loaded {msg}"))
    except DomainError as exc:
        _fail(exc)
        return
    if result.revision_before != result.revision_after:
        click.echo(f"database migrated: {result.revision_before or 'empty'} -> {result.revision_after}")
    if result.loaded_rulesets:
        click.echo(f"rulesets loaded: {result.report.rulesets}")
    if result.loaded_demo:
        r = result.report
        click.echo(f"demo data loaded: {r.associations} associations, {r.accounts} accounts, "
                   f"{r.enterprises} enterprises, {r.assessments} assessments")
        if r.credentials:
            path = _write_credentials(Path(app.config["VETTING_INSTANCE_PATH"]), r.credentials)
            click.echo("demo credentials (shown once; also written to %s):" % path)
            for email, role, password, token in r.credentials:
                click.echo(f"  {role:<18} {email:<36} password {password}  token {token}")
    if not result.changed:
        click.echo("already initialised: nothing to do")


@main.command()
@click.option("--demo/--no-demo", default=None, help="Load the demo data (default: VETTING_DEMO; on for the embedded SQLite).")
@pass_ctx
def init(ctx: Context, demo: bool | None) -> None:
    """Migrate the database to head and load the seeds if it is empty. Safe to run twice."""
    run_init(ctx, demo)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.option("--workers", default=2, show_default=True, type=int, help="Worker processes.")
@click.option("--threads", default=4, show_default=True, type=int, help="Threads per worker.")
@click.option("--init/--no-init", "do_init", default=True, show_default=True, help="Run `init` before serving.")
@click.option("--demo/--no-demo", default=None, help="Passed to `init`.")
@pass_ctx
def serve(ctx: Context, host: str, port: int, workers: int, threads: int, do_init: bool, demo: bool | None) -> None:
    """Serve the application with gunicorn (a production WSGI server)."""
    from gunicorn.app.base import BaseApplication

    if do_init:
        run_init(ctx, demo)
    app = ctx.app
    app.extensions["vetting"].database.dispose()  # children open their own connections

    class _Server(BaseApplication):
        def load_config(self) -> None:
            options: dict[str, Any] = {
                "bind": f"{host}:{port}",
                "workers": workers,
                "threads": threads,
                "worker_class": "gthread" if threads > 1 else "sync",
                "accesslog": "-",
                "errorlog": "-",
                "timeout": 60,
                "graceful_timeout": 20,
            }
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Flask:
            return app

    click.echo(f"serving on http://{host}:{port}/")
    _Server().run()


@main.group()
def db() -> None:
    """Database schema: upgrade, downgrade, current revision."""


@db.command("upgrade")
@click.argument("revision", default="head")
@pass_ctx
def db_upgrade(ctx: Context, revision: str) -> None:
    """Upgrade the schema to REVISION (default: head)."""
    from vetting import migrate

    migrate.upgrade(ctx.database.engine, revision)
    click.echo(f"at revision {migrate.current_revision(ctx.database.engine)}")


@db.command("downgrade")
@click.argument("revision")
@pass_ctx
def db_downgrade(ctx: Context, revision: str) -> None:
    """Downgrade the schema to REVISION ('base' removes every table; '-1' goes one step back)."""
    from vetting import migrate

    migrate.downgrade(ctx.database.engine, revision)
    click.echo(f"at revision {migrate.current_revision(ctx.database.engine) or 'base'}")


@db.command("current")
@pass_ctx
def db_current(ctx: Context) -> None:
    """Show the schema revision and whether it is the head."""
    from vetting import migrate

    current = migrate.current_revision(ctx.database.engine)
    head = migrate.head_revision()
    click.echo(f"{current or 'base'} ({'head' if current == head else f'head is {head}'})")


@main.group()
def accounts() -> None:
    """Accounts of reviewers, association admins and registrars."""


@accounts.command("create")
@click.option("--role", required=True, type=click.Choice(["reviewer", "association_admin", "registrar"]))
@click.option("--email", required=True)
@click.option("--association", "association_code", default=None, help="Association code (reviewers and admins).")
@click.option("--name", "display_name", default=None, help="Display name.")
@pass_ctx
def accounts_create(ctx: Context, role: str, email: str, association_code: str | None, display_name: str | None) -> None:
    """Create an account and print its bearer token once."""
    from vetting.services.accounts import create_account
    from vetting.services.actors import SystemActor

    with ctx.database.session() as session:
        try:
            created = create_account(session, SystemActor("cli"), email=email, role=role,
                                     association_code=association_code, display_name=display_name)
        except DomainError as exc:
            _fail(exc)
            return
    click.echo(f"account {created.account.id} created: {created.account.email} ({role})")
    click.echo(f"bearer token (shown once, store it now): {created.token}")


if __name__ == "__main__":  # pragma: no cover
    main()
