"""`shopwindow` command: serve, demo, worker, db, create-operator."""

from __future__ import annotations

import os
from pathlib import Path

import typer
from rich.console import Console

app = typer.Typer(help="shopwindow: interest-driven social commerce platform", no_args_is_help=True)
db_app = typer.Typer(help="Database schema management")
app.add_typer(db_app, name="db")
console = Console()


def _settings():  # type: ignore[no-untyped-def]
    from shopwindow.config import get_settings

    return get_settings()


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head")) -> None:
    """Apply migrations up to REVISION (default: head)."""
    from shopwindow.db.migrate import upgrade

    s = _settings()
    upgrade(s.database_url, revision)
    console.print(f"[green]database at {revision}[/green]: {s.database_url}")


@db_app.command("downgrade")
def db_downgrade(revision: str) -> None:
    """Revert migrations down to REVISION (e.g. base)."""
    from shopwindow.db.migrate import downgrade

    downgrade(_settings().database_url, revision)
    console.print(f"database at {revision}")


@app.command()
def serve(host: str = "127.0.0.1", port: int = 8000, workers: int = 1,
          migrate: bool = typer.Option(True, help="apply migrations first")) -> None:
    """Serve the web app (uvicorn)."""
    import uvicorn

    if migrate:
        db_upgrade("head")
    if workers > 1:
        uvicorn.run("shopwindow.app:create_app", factory=True, host=host, port=port,
                    workers=workers, proxy_headers=True, log_level="info")
    else:
        from shopwindow.app import create_app

        uvicorn.run(create_app(), host=host, port=port, proxy_headers=True, log_level="info")


@app.command()
def worker(threads: int = 2) -> None:
    """Run the job consumer (production: several of these beside `serve`)."""
    from shopwindow.db.engine import Database
    from shopwindow.jobs import runtime

    s = _settings()
    if s.jobs_mode == "thread":
        console.print("[yellow]note:[/yellow] SHOPWINDOW_JOBS_MODE=thread means web processes "
                      "run jobs too; set it to 'external' when running dedicated workers")
    runtime.configure(s, Database(s.database_url))
    runtime.run_worker(threads)


@app.command("create-operator")
def create_operator(username: str, email: str,
                    password: str = typer.Option(..., prompt=True, hide_input=True,
                                                 confirmation_prompt=True)) -> None:
    """Create an operator account."""
    from shopwindow.accounts import actions
    from shopwindow.db.engine import Database
    from shopwindow.db.uow import unit_of_work
    from shopwindow.jobs import runtime

    s = _settings()
    db = Database(s.database_url)
    runtime.configure(s, db)
    with unit_of_work(db) as session:
        acct = actions.register_account(session, username=username, email=email,
                                        password=password, role="operator")
        console.print(f"[green]operator created[/green]: @{acct.username} (id {acct.id})")


@app.command()
def demo(host: str = "127.0.0.1", port: int = 8000,
         data_dir: Path = typer.Option(Path("./var"), help="where the demo database lives"),
         reset: bool = typer.Option(False, help="delete the demo data and seed again"),
         serve_after: bool = typer.Option(True, "--serve/--no-serve")) -> None:
    """Seed a believable demo platform into SQLite under ./var and serve it."""
    import shutil

    data_dir = data_dir.resolve()
    if reset and data_dir.exists():
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("SHOPWINDOW_DATABASE_URL", f"sqlite:///{data_dir}/shopwindow.db")
    os.environ.setdefault("SHOPWINDOW_DATA_DIR", str(data_dir / "data"))
    os.environ.setdefault("SHOPWINDOW_BASE_URL", f"http://{host}:{port}")
    from shopwindow.config import get_settings

    get_settings.cache_clear()
    s = get_settings()
    from shopwindow.db.migrate import upgrade

    upgrade(s.database_url)
    from shopwindow.demo import seed

    logins = seed.seed_if_empty(s, console=console)
    console.rule("[bold]shopwindow demo")
    console.print(f"Open [bold]{s.base_url}/[/bold]")
    for who, (user, pw) in logins.items():
        console.print(f"  {who:10s} username [bold]{user}[/bold]  password [bold]{pw}[/bold]")
    if serve_after:
        serve(host=host, port=port, workers=1, migrate=False)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
