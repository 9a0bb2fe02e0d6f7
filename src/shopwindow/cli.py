"""`shopwindow` command: serve, demo, worker, db upgrade/downgrade, create-operator, timelines."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

from shopwindow.analytics.aggregator_cli import analytics_app
from shopwindow.interests.labels_cli import labels_app
from shopwindow.interests.recs.evaluate_cli import evaluate_command as recs_evaluate
from shopwindow.interests.recs_cli import recs_app

if TYPE_CHECKING:
    from shopwindow.config import Settings
    from shopwindow.db.engine import Database
    from shopwindow.demo.shops import DemoShop

app = typer.Typer(help="shopwindow: interest-driven social commerce platform",
                  no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help="Database schema management (Alembic migrations)",
                     no_args_is_help=True)
app.add_typer(db_app, name="db")
timelines_app = typer.Typer(help="Home timeline maintenance", no_args_is_help=True)
app.add_typer(timelines_app, name="timelines")
app.add_typer(labels_app, name="labels")
app.add_typer(recs_app, name="recs")
recs_app.command("evaluate")(recs_evaluate)
app.add_typer(analytics_app, name="analytics")
console = Console()


def _settings() -> Settings:
    """Settings from the environment as it is now (commands may have changed it)."""
    from shopwindow.config import get_settings

    get_settings.cache_clear()
    return get_settings()


def _configure_logging(s: Settings) -> None:
    """Application log records (shopwindow.*, huey) to stderr at SHOPWINDOW_LOG_LEVEL."""
    import logging

    logging.basicConfig(level=s.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def _fail(message: str) -> typer.Exit:
    console.print(f"[red]error:[/red] {message}")
    return typer.Exit(code=1)


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head", help="target revision")) -> None:
    """Apply migrations up to REVISION (default: head)."""
    from shopwindow.db.migrate import upgrade

    s = _settings()
    _ensure_sqlite_dir(s)
    upgrade(s.database_url, revision)
    console.print(f"[green]database at {revision}[/green]: {_safe_url(s.database_url)}")


def _sqlite_file(s: Settings) -> Path | None:
    from sqlalchemy.engine import make_url

    path = make_url(s.database_url).database if s.is_sqlite else None
    return None if not path or path == ":memory:" else Path(path)


def _ensure_sqlite_dir(s: Settings) -> None:
    """SQLite creates the file but not its directory."""
    path = _sqlite_file(s)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)


@db_app.command("downgrade")
def db_downgrade(revision: str = typer.Argument(..., help="target revision, e.g. base")) -> None:
    """Revert migrations down to REVISION (e.g. base)."""
    from shopwindow.db.migrate import downgrade

    s = _settings()
    downgrade(s.database_url, revision)
    console.print(f"database at {revision}: {_safe_url(s.database_url)}")


def _safe_url(url: str) -> str:
    """The database URL without its password (for printing)."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # printing must never fail
        return url.split("@")[-1]


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="interface to bind (0.0.0.0 for all)"),
    port: int = typer.Option(8000, help="TCP port"),
    workers: int = typer.Option(1, min=1, help="web processes (uvicorn workers)"),
    migrate: bool = typer.Option(True, help="apply migrations first"),
    log_level: str | None = typer.Option(
        None, help="uvicorn log level (default: SHOPWINDOW_LOG_LEVEL)"),
) -> None:
    """Serve the web app with uvicorn (JSON API, pages, Mastodon client API)."""
    import uvicorn

    s = _settings()
    _configure_logging(s)
    log_level = (log_level or s.log_level).lower()
    if migrate:
        db_upgrade("head")
    if workers > 1 and not s.redis_url:
        # Timeline/status caches, rate limits, idempotency keys and the token cache are
        # per-process without Redis: several processes would disagree with each other.
        console.print("[red]error:[/red] --workers > 1 needs SHOPWINDOW_REDIS_URL (shared "
                      "caches, rate limits and invalidation); run one worker or configure Redis")
        raise typer.Exit(2)
    if workers > 1:
        if s.jobs_mode == "thread":
            console.print("[yellow]note:[/yellow] with several workers and "
                          "SHOPWINDOW_JOBS_MODE=thread every worker also runs jobs; production "
                          "setups use SHOPWINDOW_JOBS_MODE=external and `shopwindow worker`")
        # Each worker process builds its own app (and database pools) from the settings.
        uvicorn.run("shopwindow.app:create_app", factory=True, host=host, port=port,
                    workers=workers, proxy_headers=True, log_level=log_level)
    else:
        from shopwindow.app import create_app

        uvicorn.run(create_app(s), host=host, port=port, proxy_headers=True,
                    log_level=log_level)


@app.command()
def worker(threads: int = typer.Option(2, min=1, help="job threads in this process")) -> None:
    """Run the job consumer (production: one or more beside `serve`)."""
    from shopwindow.db.engine import Database
    from shopwindow.jobs import runtime
    from shopwindow.media.storage import FileStorage, configure_storage

    s = _settings()
    if s.jobs_mode == "thread":
        console.print("[yellow]note:[/yellow] SHOPWINDOW_JOBS_MODE=thread means web processes "
                      "run jobs too; set it to 'external' when running dedicated workers")
    if s.jobs_mode == "immediate":
        raise _fail("SHOPWINDOW_JOBS_MODE=immediate runs jobs inline; there is nothing to consume")
    if not s.redis_url:
        console.print("[yellow]note:[/yellow] no SHOPWINDOW_REDIS_URL: consuming the SQLite "
                      f"job queue in {s.data_dir / 'jobs.db'} (same machine only)")
    _configure_logging(s)
    configure_storage(FileStorage(s.data_dir / "media"))
    runtime.configure(s, Database(s.database_url))
    runtime.run_worker(threads)


@app.command("create-operator")
def create_operator(
    username: str = typer.Argument(..., help="login name (letters, digits, underscore)"),
    email: str = typer.Argument(..., help="e-mail address"),
    password: str = typer.Option(..., prompt=True, hide_input=True, confirmation_prompt=True,
                                 help="password (prompted when omitted)"),
    display_name: str = typer.Option("", help="shown instead of the username"),
) -> None:
    """Create an operator account (runs the platform: partners, moderation, payouts)."""
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from shopwindow.accounts import actions
    from shopwindow.core.errors import DomainError
    from shopwindow.db.engine import Database
    from shopwindow.db.uow import unit_of_work
    from shopwindow.jobs import runtime

    s = _settings()
    db = Database(s.database_url, pool_size=1)
    runtime.configure(s, db)
    try:
        with unit_of_work(db) as session:
            acct = actions.register_account(session, username=username, email=email,
                                            password=password, role="operator",
                                            display_name=display_name)
            created = (acct.username, acct.id)
    except DomainError as exc:
        raise _fail(exc.detail) from None
    except (OperationalError, ProgrammingError) as exc:
        raise _fail(f"the database is not ready ({type(exc.orig).__name__}); "
                    "run `shopwindow db upgrade` first") from None
    finally:
        db.dispose()
    console.print(f"[green]operator created[/green]: @{created[0]} (id {created[1]})")


@timelines_app.command("rebuild")
def timelines_rebuild(
    username: str | None = typer.Option(None, help="only this account (default: everyone)"),
) -> None:
    """Rebuild home timelines from follows and posts (after losing Redis, or to repair)."""
    from sqlalchemy import select

    from shopwindow.accounts import queries as accounts_q
    from shopwindow.accounts.models import Account
    from shopwindow.core.errors import NotFound
    from shopwindow.db.engine import Database
    from shopwindow.db.uow import unit_of_work
    from shopwindow.social import timelines

    s = _settings()
    db = Database(s.database_url, pool_size=1)
    try:
        with unit_of_work(db, write=False) as session:
            if username:
                try:
                    ids = [accounts_q.get_by_username(session, username).id]
                except NotFound:
                    raise _fail(f"no account @{username}") from None
            else:
                ids = list(session.scalars(select(Account.id)
                                           .where(Account.deleted_at.is_(None))
                                           .order_by(Account.id)))
        entries = 0
        for i in range(0, len(ids), 200):  # bounded transactions
            with unit_of_work(db) as session:
                for aid in ids[i:i + 200]:
                    entries += timelines.rebuild_home(session, aid)
    finally:
        db.dispose()
    console.print(f"[green]rebuilt {len(ids)} home timelines[/green] ({entries} entries)")


@app.command()
def demo(
    host: str = typer.Option("127.0.0.1", help="interface to bind"),
    port: int = typer.Option(8000, help="TCP port"),
    data_dir: Path | None = typer.Option(
        None, help="where the demo database and media live (default ./var); overrides "
                   "SHOPWINDOW_DATABASE_URL / SHOPWINDOW_DATA_DIR when given"),
    reset: bool = typer.Option(False, help="delete the demo database and media, then seed again"),
    creators: int | None = typer.Option(
        None, min=1, help="creators to seed (default: SHOPWINDOW_DEMO_CREATORS)"),
    fans: int | None = typer.Option(
        None, min=1, help="fans to seed (default: SHOPWINDOW_DEMO_FANS)"),
    serve_after: bool = typer.Option(True, "--serve/--no-serve", help="serve after seeding"),
    shops: bool = typer.Option(
        True, "--shops/--no-shops",
        help="run partner-shop simulators beside the platform (ports 8101-8103 when free), "
             "register them as partners and seed recommendations of their products"),
) -> None:
    """Migrate, seed a believable demo platform (once), start the partner shops, print the
    logins and serve it."""
    if data_dir is not None:
        root = data_dir.resolve()
        os.environ["SHOPWINDOW_DATABASE_URL"] = f"sqlite:///{root}/shopwindow.db"
        os.environ["SHOPWINDOW_DATA_DIR"] = str(root / "data")
    else:
        root = Path("./var").resolve()
        os.environ.setdefault("SHOPWINDOW_DATABASE_URL", f"sqlite:///{root}/shopwindow.db")
        os.environ.setdefault("SHOPWINDOW_DATA_DIR", str(root / "data"))
    os.environ.setdefault("SHOPWINDOW_BASE_URL", f"http://{host}:{port}")
    s = _settings()
    if reset:
        _reset_demo(s)
    from shopwindow.db.migrate import upgrade

    _ensure_sqlite_dir(s)
    upgrade(s.database_url)
    from shopwindow.demo import seed

    console.print(f"database: {_safe_url(s.database_url)}")
    logins = seed.seed_if_empty(s, console=console, creators=creators, fans=fans)
    console.rule("[bold]shopwindow demo")
    console.print(f"Open [bold]{s.base_url.rstrip('/')}/[/bold]")
    if logins:
        table = Table("persona", "username", "password", box=None)
        for who, (user, pw) in logins.items():
            table.add_row(who, user, pw)
        console.print(table)
    else:
        console.print("[yellow]this database has accounts that were not made by the demo "
                      "seed; nothing was seeded[/yellow]")
    running: list[DemoShop] = _start_demo_shops(s) if shops else []
    _train_demo_labels(s)
    _seed_demo_activity(s)
    _train_demo_recs(s)
    try:
        if serve_after:
            if running:
                _start_demo_shoppers(s)
            serve(host=host, port=port, workers=1, migrate=False, log_level=None)
    finally:
        from shopwindow.demo.shops import stop_shops

        stop_shops(running)


def _train_demo_recs(s: Settings) -> None:
    """Train the recommenders once, so /discover and suggestions are personal from the start."""
    from shopwindow.db.engine import Database
    from shopwindow.interests import training
    from shopwindow.interests.recs_cli import train_platform

    if training.current_version(training.recs_dir(s.data_dir)):
        return
    db = Database(s.database_url, pool_size=1)
    try:
        stats = train_platform(db, s.data_dir, quiet=True)
    finally:
        db.dispose()
    if "error" in stats:
        console.print(f"[yellow]recommender training failed[/yellow]: {stats['error']}")
        return
    console.print(f"[green]recommenders trained[/green] in {stats['seconds']:.1f}s: "
                  f"{stats['users']} accounts, {stats['items']} products, "
                  f"{stats['interactions']} interactions")


def _train_demo_labels(s: Settings) -> None:
    """Train the ability-label model once and label the demo creators (shown on profiles)."""
    from shopwindow.db.engine import Database
    from shopwindow.interests import labels_queries, labels_train

    if labels_queries.load_model(s.data_dir) is not None:
        return
    db = Database(s.database_url, pool_size=1)
    try:
        _declare_demo_verticals(db)
        info = labels_train.train_and_apply(db, s.data_dir)
    finally:
        db.dispose()
    console.print(f"[green]ability labels trained[/green]: "
                  f"{info.get('accounts_labelled', 0)} creators labelled")


def _seed_demo_activity(s: Settings) -> None:
    """Two weeks of page views and reads, once, so the demo's reports have data."""
    from shopwindow.db.engine import Database
    from shopwindow.demo.activity import seed_activity

    db = Database(s.database_url, pool_size=1)
    try:
        n = seed_activity(db)
    finally:
        db.dispose()
    if n:
        console.print(f"[green]page activity seeded[/green]: {n} views, reads and visits")


def _start_demo_shoppers(s: Settings) -> None:
    """Once the server answers, and only while the platform has no buy click yet: a few
    dozen visitors follow recommendations to the partner shops, some buy and a few get a
    refund, all over real HTTP (demo/buyers.py), so reports and earnings show the money
    loop from the start."""
    import threading

    def run() -> None:
        from shopwindow.db.engine import Database
        from shopwindow.demo import buyers

        db = Database(s.database_url, pool_size=1)
        try:
            if not buyers.wait_until_up(s.base_url) or buyers.platform_has_clicks(db):
                return
            done = buyers.shop(s.base_url, buyers.recommendation_ids(db))
        except Exception as exc:  # the demo keeps serving whatever happened here
            console.print(f"[yellow]demo shoppers stopped[/yellow]: {exc}")
            return
        finally:
            db.dispose()
        console.print(f"[green]demo shoppers[/green]: {done.clicks} buy clicks, "
                      f"{done.orders} orders, {done.refunds} refunds at the partner shops")

    threading.Thread(target=run, name="demo-shoppers", daemon=True).start()


def _declare_demo_verticals(db: Database) -> None:
    """The demo creators state their verticals, as real creators do when they apply: the
    label model learns from their posts (a creator with one vertical) and its seeds."""
    from shopwindow.accounts import queries as accounts_q
    from shopwindow.core.errors import DomainError
    from shopwindow.db.uow import unit_of_work
    from shopwindow.demo import data
    from shopwindow.interests import actions as interests_actions
    from shopwindow.interests import labels_actions

    with unit_of_work(db) as session:
        interests_actions.ensure_default_verticals(session)
        for c in data.CREATORS:
            try:
                account = accounts_q.get_by_username(session, c.username)
                labels_actions.declare_verticals(session, account.id, c.verticals)
            except DomainError:
                continue  # a smaller demo has fewer creators


def _start_demo_shops(s: Settings) -> list[DemoShop]:
    """Start the demo's partner shops, seed recommendations once, print the shops."""
    from shopwindow.demo import shops

    running = shops.start_shops(s)
    made = shops.seed_recommendations(s, running)
    if made:
        console.print(f"[green]published[/green] {made} recommendations of partner products")
    table = Table("partner shop", "url", "admin token", box=None)
    for shop in running:
        table.add_row(shop.spec.name, shop.url + "/", shop.admin_token)
    console.print(table)
    return running


def _reset_demo(s: Settings) -> None:
    """Remove the demo's SQLite files and media (never anything else)."""
    import shutil

    path = _sqlite_file(s)
    if path is None:
        raise _fail("--reset only deletes a SQLite demo database; drop other databases yourself")
    from shopwindow.db.engine import analytics_path

    # The analytics tables' own file too (db.engine.analytics_url), or a reset demo would
    # start with the old demo's events and rollups.
    files = [str(path)] + [p for p in (analytics_path(s.database_url),) if p]
    for f in files:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{f}{suffix}").unlink(missing_ok=True)
    for sub in ("media", "shops", "jobs.db", "jobs.db-wal", "jobs.db-shm"):
        target = s.data_dir / sub
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
    console.print("[yellow]demo data deleted[/yellow]")


@app.command(
    "partner-sim",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    add_help_option=False,
)
def partner_sim(ctx: typer.Context) -> None:
    """Run a partner-shop simulator (a separate HTTP server); `--help` lists its options."""
    from shopwindow.partnersim.__main__ import main as sim_main

    sim_main(list(ctx.args))


def main() -> None:
    app()


if __name__ == "__main__":
    main()
