"""The `vetting` command. Every command calls services; none holds business logic."""

from __future__ import annotations

import os
import stat
import sys
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn

import click
from flask import Flask

from vetting.clock import INSTANT_FORM, parse_instant
from vetting.config import ConfigError
from vetting.errors import DomainError


class Context:
    """Builds the application lazily, so `--help` works without a database."""

    def __init__(self) -> None:
        self._app: Flask | None = None
        self.as_of: datetime | None = None  # `vetting --as-of`: overrides VETTING_TODAY

    @property
    def app(self) -> Flask:
        if self._app is None:
            self._app = _build_app(self.as_of)
        return self._app

    @property
    def rehearsal(self) -> bool:
        """Whether the service clock is set (VETTING_TODAY or --as-of) rather than the system's."""
        return self.app.extensions["vetting"].clock is not None

    @property
    def database(self):  # noqa: ANN201
        return self.app.extensions["vetting"].database

    def close(self) -> None:
        if self._app is not None:
            self.database.dispose()


pass_ctx = click.make_pass_decorator(Context, ensure=True)


def _refuse(message: str) -> NoReturn:
    click.secho(f"error: {message}", fg="red", err=True)
    sys.exit(2)


def _build_app(as_of: datetime | None) -> Flask:
    """The application from the environment (``as_of`` wins over VETTING_TODAY); a malformed
    setting is a one-line error. A set service clock is announced on stderr before anything else."""
    from vetting.app import create_app

    try:
        app = create_app(None if as_of is None else {"VETTING_TODAY": as_of})
    except ConfigError as exc:
        _refuse(str(exc))
    clock = app.extensions["vetting"].clock
    if clock is not None:
        click.echo(f"service clock: {clock.now().isoformat()} (rehearsal; not the system clock)", err=True)
    return app


def _parse_as_of(_ctx: click.Context, _param: click.Parameter, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_instant(value)
    except ValueError:
        _refuse(f"--as-of must be {INSTANT_FORM}, not {value!r}")


def _fail(exc: DomainError) -> None:
    click.secho(f"error: {exc.message}", fg="red", err=True)
    errors = exc.details.get("errors") if exc.details else None
    for field, messages in (errors or {}).items():
        for message in messages:
            click.echo(f"  {field}: {message}", err=True)
    sys.exit(2)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="vetting")
@click.option("--as-of", metavar="DATE_OR_DATETIME", callback=_parse_as_of,
              help="Rehearse a date: the service clock stands at this ISO date (12:00 UTC) or date and time "
                   "(2027-03-20T09:00:00Z) for this command. Overrides VETTING_TODAY.")
@click.pass_context
def main(ctx: click.Context, as_of: datetime | None) -> None:
    """vetting: association-run red/black lists of enterprises abroad.

    Configuration comes from VETTING_* environment variables (see the README).
    """
    obj = ctx.ensure_object(Context)
    obj.as_of = as_of
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


def gunicorn_options(bind: str, workers: int = 2, threads: int = 4) -> dict[str, Any]:
    """How `vetting serve` runs gunicorn (the HTTP benchmarks start it the same way)."""
    return {
        "bind": bind,
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread" if threads > 1 else "sync",
        "accesslog": "-",
        "errorlog": "-",
        "timeout": 60,
        "graceful_timeout": 20,
    }


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.option("--workers", default=2, show_default=True, type=int, help="Worker processes.")
@click.option("--threads", default=4, show_default=True, type=int, help="Threads per worker.")
@click.option("--init/--no-init", "do_init", default=True, show_default=True, help="Run `init` before serving.")
@click.option("--demo/--no-demo", default=None, help="Passed to `init`.")
@click.option("--allow-rehearsal-clock", is_flag=True,
              help="Serve although the service clock is set (VETTING_TODAY or --as-of); for drills only.")
@pass_ctx
def serve(ctx: Context, host: str, port: int, workers: int, threads: int, do_init: bool, demo: bool | None,
          allow_rehearsal_clock: bool) -> None:
    """Serve the application with gunicorn (a production WSGI server)."""
    from gunicorn.app.base import BaseApplication

    if ctx.rehearsal and not allow_rehearsal_clock:
        _refuse("refusing to serve on a rehearsal clock (VETTING_TODAY or --as-of); "
                "add --allow-rehearsal-clock to serve one on purpose")
    if do_init:
        run_init(ctx, demo)
    app = ctx.app
    app.extensions["vetting"].database.dispose()  # children open their own connections

    class _Server(BaseApplication):
        def load_config(self) -> None:
            for key, value in gunicorn_options(f"{host}:{port}", workers, threads).items():
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
@click.option("--password", "with_password", is_flag=True,
              help="Also generate a password for signing in to the pages (printed once).")
@pass_ctx
def accounts_create(ctx: Context, role: str, email: str, association_code: str | None, display_name: str | None,
                    with_password: bool) -> None:
    """Create an account and print its bearer token (and, with --password, a password) once."""
    import secrets

    from vetting.services.accounts import create_account
    from vetting.services.actors import SystemActor

    password = secrets.token_urlsafe(15) if with_password else None
    with ctx.database.session() as session:
        try:
            created = create_account(session, SystemActor("cli"), email=email, role=role,
                                     association_code=association_code, display_name=display_name, password=password)
        except DomainError as exc:
            _fail(exc)
            return
    click.echo(f"account {created.account.id} created: {created.account.email} ({role})")
    click.echo(f"bearer token (shown once, store it now): {created.token}")
    if password:
        click.echo(f"password (shown once, store it now): {password}")


def _with_session(ctx: Context, fn):  # noqa: ANN001, ANN202
    from vetting.services.actors import SystemActor

    with ctx.database.session() as session:
        try:
            return fn(session, SystemActor("cli"))
        except DomainError as exc:
            _fail(exc)


@accounts.command("disable")
@click.argument("account_id", type=int)
@click.option("--reason", required=True)
@pass_ctx
def accounts_disable(ctx: Context, account_id: int, reason: str) -> None:
    """Disable an account (its tokens stop working)."""
    from vetting.services.accounts import set_account_status

    account = _with_session(ctx, lambda s, a: set_account_status(s, a, account_id, disabled=True, reason=reason))
    click.echo(f"account {account.id} ({account.email}) disabled")


@accounts.command("enable")
@click.argument("account_id", type=int)
@click.option("--reason", required=True)
@pass_ctx
def accounts_enable(ctx: Context, account_id: int, reason: str) -> None:
    """Re-enable a disabled account."""
    from vetting.services.accounts import set_account_status

    account = _with_session(ctx, lambda s, a: set_account_status(s, a, account_id, disabled=False, reason=reason))
    click.echo(f"account {account.id} ({account.email}) enabled")


@main.group()
def associations() -> None:
    """Accredit, suspend and reinstate associations."""


@associations.command("accredit")
@click.option("--code", required=True)
@click.option("--name", required=True)
@click.option("--country", required=True, help="ISO 3166-1 alpha-2")
@click.option("--name-zh", default=None)
@pass_ctx
def associations_accredit(ctx: Context, code: str, name: str, country: str, name_zh: str | None) -> None:
    """Accredit a new association."""
    from vetting.services.accounts import accredit_association

    assoc = _with_session(ctx, lambda s, a: accredit_association(s, a, code=code, name=name, country=country, name_zh=name_zh))
    click.echo(f"association {assoc.code} accredited (id {assoc.id})")


@associations.command("suspend")
@click.argument("code")
@click.option("--reason", required=True)
@pass_ctx
def associations_suspend(ctx: Context, code: str, reason: str) -> None:
    """Suspend an association: its accounts' tokens stop working."""
    from vetting.services.accounts import set_association_status

    assoc = _with_session(ctx, lambda s, a: set_association_status(s, a, code, suspended=True, reason=reason))
    click.echo(f"association {assoc.code} suspended")


@associations.command("reinstate")
@click.argument("code")
@click.option("--reason", required=True)
@pass_ctx
def associations_reinstate(ctx: Context, code: str, reason: str) -> None:
    """Reinstate a suspended association."""
    from vetting.services.accounts import set_association_status

    assoc = _with_session(ctx, lambda s, a: set_association_status(s, a, code, suspended=False, reason=reason))
    click.echo(f"association {assoc.code} reinstated")


@main.group()
def assessments() -> None:
    """Assessments: bulk import."""


@assessments.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--atomic", is_flag=True, help="All records or none: any rejected record rolls everything back.")
@click.option("--report", "report_path", type=click.Path(dir_okay=False), default=None, help="Write the full report as JSON here.")
@pass_ctx
def assessments_import(ctx: Context, file: str, atomic: bool, report_path: str | None) -> None:
    """Import assessments from FILE (JSON Lines, or CSV by its .csv name); each is validated,
    filed and submitted. Records with an idempotency_key already imported are skipped, so an
    interrupted import can simply be run again. Exit 1 if any record was rejected."""
    import json as _json

    from vetting.services.bulk import import_assessments, read_records
    from vetting.services.actors import SystemActor

    with open(file, encoding="utf-8-sig") as fh:
        text = fh.read()
    records = list(read_records(file, text))
    with ctx.database.session() as session:
        with click.progressbar(length=len(records), label="importing") as bar:
            report = import_assessments(session, SystemActor("import"), records, atomic=atomic, progress=bar.update)
    click.echo(f"{len(report.accepted)} accepted, {len(report.skipped)} skipped (already imported), "
               f"{len(report.rejected)} rejected; {report.decisions} decisions stored"
               + ("" if report.committed else "; nothing was written (--atomic)"))
    for item in report.rejected[:50]:
        fields = "; ".join(f"{k}: {', '.join(v)}" for k, v in item["errors"].items()) or item["message"]
        click.echo(f"  line {item['line']}: {fields}")
    if len(report.rejected) > 50:
        click.echo(f"  ... and {len(report.rejected) - 50} more (see --report)")
    if report_path:
        with open(report_path, "w", encoding="utf-8") as fh:
            _json.dump(report.as_dict(), fh, ensure_ascii=False, indent=2)
    sys.exit(1 if report.rejected else 0)


@main.group()
def rulesets() -> None:
    """Rulesets: test golden cases, simulate, activate, render the method, rater agreement."""


def _read_document(path: str) -> dict[str, Any]:
    import yaml

    try:
        with open(path, encoding="utf-8") as fh:
            return yaml.safe_load(fh)
    except (OSError, yaml.YAMLError) as exc:
        raise click.BadParameter(f"cannot read {path}: {exc}") from None


@rulesets.command("test")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--cases", "cases_path", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Golden cases file (default: FILE with .cases.yaml).")
def rulesets_test(file: str, cases_path: str | None) -> None:
    """Run a ruleset's golden cases; exit 1 if any fails."""
    from vetting import rules

    try:
        compiled = rules.compile_ruleset(_read_document(file))
    except rules.RulesetError as exc:
        click.secho(f"error: {file}: {exc}", fg="red", err=True)
        sys.exit(2)
    path = cases_path or (file[: -len(".yaml")] + ".cases.yaml" if file.endswith(".yaml") else file + ".cases.yaml")
    results = rules.run_cases(compiled, rules.load_cases(path))
    failed = [r for r in results if not r.passed]
    for r in results:
        mark = click.style("pass", fg="green") if r.passed else click.style("FAIL", fg="red")
        click.echo(f"{mark}  {r.name}" + ("" if r.passed else f"  expected {r.expected}, got {r.got}"))
    click.echo(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    sys.exit(1 if failed else 0)


@rulesets.command("simulate")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@pass_ctx
def rulesets_simulate(ctx: Context, file: str, as_json: bool) -> None:
    """Show which outcomes would change if FILE replaced the active ruleset. Writes nothing."""
    import json as _json

    from vetting.services.decisions import simulate

    with ctx.database.session() as session:
        try:
            sim = simulate(session, _read_document(file))
        except DomainError as exc:
            _fail(exc)
            return
        session.rollback()
    if as_json:
        click.echo(_json.dumps(sim.__dict__, ensure_ascii=False, indent=2))
        return
    click.echo(f"{sim.enterprises} enterprises: {sim.current_version} (rows) -> {sim.candidate_version} (columns)")
    outcomes = ("RED", "NONE", "BLACK")
    click.echo("          " + "".join(f"{o:>8}" for o in outcomes))
    for o in outcomes:
        click.echo(f"{o:<10}" + "".join(f"{sim.matrix[o][n]:>8}" for n in outcomes))
    click.echo(f"{len(sim.changed)} enterprises change:")
    for c in sim.changed:
        click.echo(f"  {c['enterprise_id']:>6}  {c['from']:<5} -> {c['to']:<5}  {c['legal_name'] or ''}"
                   f"  ({', '.join(c['to_reasons'])})")


@rulesets.command("activate")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@pass_ctx
def rulesets_activate(ctx: Context, file: str) -> None:
    """Store FILE's ruleset, make it active and re-evaluate every enterprise."""
    from sqlalchemy import func, select

    from vetting.models import Enterprise
    from vetting.services import rulesets as service
    from vetting.services.actors import SystemActor

    actor = SystemActor("cli")
    with ctx.database.session() as session:
        try:
            spec = service.spec_from_document(_read_document(file))
            row = service.store_ruleset(session, actor, spec)
            total = session.scalar(select(func.count()).select_from(Enterprise).where(Enterprise.merged_into_id.is_(None)))
            with click.progressbar(length=total, label=f"re-evaluating under {row.version}") as bar:
                service.activate_ruleset(session, actor, row.id, progress=bar.update)
        except DomainError as exc:
            _fail(exc)
            return
    click.echo(f"ruleset {spec.version} ({spec.content_hash[:12]}) is active")


@rulesets.command("render")
@click.option("--output", "-o", default="docs/method.md", show_default=True, type=click.Path(dir_okay=False))
@pass_ctx
def rulesets_render(ctx: Context, output: str) -> None:
    """Write the method document (criteria, rubrics, weights, thresholds) from the active ruleset."""
    import json as _json

    from vetting.method import render_method
    from vetting.services.rulesets import active_ruleset

    with ctx.database.session() as session:
        row = active_ruleset(session)
        text = render_method(_json.loads(row.document), content_hash=row.content_hash)
    with open(output, "w", encoding="utf-8") as fh:
        fh.write(text)
    click.echo(f"wrote {output} from ruleset {row.version}")


@rulesets.command("agreement")
@pass_ctx
def rulesets_agreement(ctx: Context) -> None:
    """Krippendorff's alpha per criterion over the counted assessments, per ruleset version."""
    from vetting.services.agreement import agreement_report

    with ctx.database.session() as session:
        report = agreement_report(session)
    click.echo(report.method)
    for version, rows in report.by_version.items():
        click.echo(f"\nruleset {version}")
        click.echo(f"  {'criterion':<10}{'alpha':>8}{'units':>8}{'values':>8}")
        for code, row in rows.items():
            alpha = "n/a" if row["alpha"] is None else f"{row['alpha']:.3f}"
            click.echo(f"  {code:<10}{alpha:>8}{row['units']:>8}{row['pairable_values']:>8}")


@main.group()
def decisions() -> None:
    """Decisions: replay from stored inputs, re-evaluate."""


@decisions.command("replay")
@click.argument("decision_id", type=int)
@pass_ctx
def decisions_replay(ctx: Context, decision_id: int) -> None:
    """Recompute decision DECISION_ID from its stored inputs; exit 1 unless byte-identical."""
    from vetting.services.decisions import replay

    with ctx.database.session() as session:
        try:
            result = replay(session, decision_id)
        except DomainError as exc:
            _fail(exc)
            return
    if result.identical:
        click.echo(f"decision {decision_id}: identical ({result.outcome}, sha256 {result.stored_sha256})")
        return
    click.secho(f"decision {decision_id}: DIFFERENT: stored {result.outcome}, replayed {result.replayed_outcome}; "
                f"differing parts: {', '.join(result.differences)}", fg="red")
    sys.exit(1)


@decisions.command("evaluate")
@pass_ctx
def decisions_evaluate(ctx: Context) -> None:
    """Re-evaluate every enterprise under the active ruleset and store the decisions."""
    from vetting.services.evaluation import reevaluate_all

    with ctx.database.session() as session:
        total = reevaluate_all(session, None, count_only=True)
        with click.progressbar(length=total, label="evaluating") as bar:
            result = reevaluate_all(session, None, progress=bar.update)
    click.echo(f"{result.evaluated} decisions stored (loading {result.seconds_loading:.1f}s, "
               f"engine {result.seconds_engine:.1f}s, storing {result.seconds_storing:.1f}s)")


@main.group()
def audit() -> None:
    """The hash-chained audit log."""


@audit.command("verify")
@pass_ctx
def audit_verify(ctx: Context) -> None:
    """Recompute the chain; exit 1 and name the first broken link if it does not verify."""
    from vetting.services import audit as service

    with ctx.database.session() as session:
        report = service.verify(session)
    if report.ok:
        click.echo(f"audit chain verified: {report.events} events")
        return
    click.secho(f"audit chain BROKEN at event {report.first_broken_id}: {report.problem} "
                f"({report.events} events verified before it)", fg="red")
    sys.exit(1)


@main.group()
def search() -> None:
    """The name search index."""


@search.command("reindex")
@pass_ctx
def search_reindex(ctx: Context) -> None:
    """Rebuild the name search index from every enterprise's names."""
    from sqlalchemy import func, select

    from vetting.models import Enterprise
    from vetting.services.search import reindex

    with ctx.database.session() as session:
        total = session.scalar(select(func.count()).select_from(Enterprise))
        with click.progressbar(length=total, label="indexing names") as bar:
            count = reindex(session, progress=bar.update)
    click.echo(f"indexed {count} enterprises")


@main.group()
def jobs() -> None:
    """Periodic work (expiry of listings, delivery of notices, releases)."""


@jobs.command("run")
@pass_ctx
def jobs_run(ctx: Context) -> None:
    """Run every periodic job once (for cron or a systemd timer)."""
    from vetting.jobs import run_due

    report = run_due(ctx.database, ctx.app.config)
    for name, outcome in report.ran.items():
        click.echo(f"{name}: {outcome}")


@jobs.command("worker")
@pass_ctx
def jobs_worker(ctx: Context) -> None:
    """Run the jobs on VETTING_RELEASE_SCHEDULE (cron syntax, UTC) until stopped."""
    import signal

    from vetting.jobs import worker

    if ctx.rehearsal:
        _refuse("`vetting jobs worker` waits for real times and cannot run on a rehearsal clock "
                "(VETTING_TODAY or --as-of); rehearse with `vetting --as-of DATE jobs run`")
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    try:
        worker(ctx.database, ctx.app.config, log=click.echo, stop=lambda: bool(stopping))
    except KeyboardInterrupt:
        pass


@main.group()
def releases() -> None:
    """Signed releases of the lists: publish, list, verify."""


@releases.command("publish")
@click.option("--force", is_flag=True, help="Publish even when nothing changed since the previous release.")
@pass_ctx
def releases_publish(ctx: Context, force: bool) -> None:
    """Build the next release and publish it atomically."""
    from vetting.services.actors import SystemActor
    from vetting.services.releases import publish

    try:
        result = publish(ctx.database, ctx.app.config, SystemActor("cli"), force=force)
    except DomainError as exc:  # e.g. the releases folder's device is full
        _fail(exc)
    click.echo(result.message)
    if result.lost:
        sys.exit(3)


@releases.command("list")
@pass_ctx
def releases_list(ctx: Context) -> None:
    """The published releases, newest first."""
    from vetting.services.releases import listing

    for m in listing(ctx.app.config):
        click.echo(f"{m['release']}\t{m['as_of']}\tred {m['counts']['red']}\tblack {m['counts']['black']}\t"
                   f"changes {m.get('delta_rows', 0)}")


@releases.command("verify")
@click.argument("source")
@click.option("--key", "key_file", type=click.Path(exists=True, dir_okay=False), help="The publisher's public key (PEM).")
@pass_ctx
def releases_verify(ctx: Context, source: str, key_file: str | None) -> None:
    """Check a release folder or URL against its manifest's checksums and signature.

    SOURCE is a folder (releases/3) or a URL (https://host/releases/3). The public key is
    --key, else the site's /releases/signing-key.pem for a URL, else this instance's key."""
    from pathlib import Path as _Path

    from vetting.publication import release, signing

    key = _Path(key_file).read_bytes() if key_file else None
    if key is None and not source.startswith(("http://", "https://")):
        key = signing.public_pem(ctx.app.config)
    report = release.verify(source, key)
    for name in report.checked:
        click.echo(f"ok       {name}")
    for problem in report.problems:
        click.secho(f"PROBLEM  {problem}", fg="red")
    if not report.ok:
        sys.exit(1)
    click.echo(f"release at {source} verified")


@main.command("backup")
@click.argument("dest", type=click.Path(path_type=str))
@pass_ctx
def backup_command(ctx: Context, dest: str) -> None:
    """Write the database, the release signing key and the published releases into one archive.

    DEST is the archive's file name (.tar, or .tar.gz to compress it), or an existing folder to
    write vetting-backup-<UTC time>.tar into. Safe while the service runs. The archive holds the
    private signing key: keep it where only operators can read it."""
    from vetting import backup as service

    try:
        result = service.backup(ctx.app.config, dest)
    except DomainError as exc:
        _fail(exc)
        return
    click.echo(f"wrote {result.path} ({service.human_size(result.bytes)}): {result.summary}")


@main.command("restore")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=str))
@click.option("--force", is_flag=True,
              help="Replace a database that holds data, a different signing key, and releases that differ.")
@pass_ctx
def restore_command(ctx: Context, archive: str, force: bool) -> None:
    """Restore an archive made by `vetting backup` into the configured database and folders.

    Every member is checked against the archive's manifest first. Afterwards the audit chain and
    the latest release are verified; exit 1 if either fails. Stop the service while restoring."""
    from vetting import backup as service

    try:
        result = service.restore(ctx.app.config, ctx.database, archive, force=force)
    except DomainError as exc:
        _fail(exc)
        return
    m = result.manifest
    click.echo(f"archive made {m['created_at']}: {m['backend']} database, "
               f"{service.plural(len(m['members']), 'member')}, checksums ok")
    click.echo(f"database restored into {result.database}")
    if result.revision != result.head:
        click.echo(f"  the database is at revision {result.revision or 'base'}, this version's head is "
                   f"{result.head}: run `vetting db upgrade`")
    if result.key_path is not None:
        click.echo(f"signing key restored to {result.key_path}")
    else:
        click.echo("the archive holds no signing key (none had been made)")
    click.echo(f"releases in {result.releases_folder}: {len(result.releases_restored)} restored, "
               f"{len(result.releases_kept)} already there"
               + (f", {len(result.releases_removed)} not in the archive removed" if result.releases_removed else ""))
    c, n = result.counts, service.plural
    click.echo(f"restored {n(c['enterprises'], 'enterprise')}, {n(c['listings'], 'listing')}, "
               f"{n(c['audit_events'], 'audit event')}, {n(c['releases'], 'release')}")
    if result.audit.ok:
        click.echo(f"audit chain verified: {result.audit.events} events")
    if result.latest_release is None:
        click.echo("no release to verify")
    elif result.release_check is not None and result.release_check.ok:
        click.echo(f"release {result.latest_release} verified: signatures and checksums "
                   f"({len(result.release_check.checked)} checks)")
    for problem in result.problems:
        click.secho(f"PROBLEM  {problem}", fg="red")
    if not result.ok:
        sys.exit(1)
    click.echo("restore complete")


if __name__ == "__main__":  # pragma: no cover
    main()
