"""The ``liucheng`` command.

Each command family lives in its own module and registers on :data:`app` here. A
:class:`~liucheng.errors.LiuchengError` never reaches the user as a traceback: :func:`main` prints
its message (with code, place and hint) and exits with status 2.
"""

from __future__ import annotations

import sys

import typer

from liucheng.errors import LiuchengError

from . import analytics as _analytics  # noqa: F401  (registers commands)
from . import bench as _bench  # noqa: F401
from . import bpmn as _bpmn  # noqa: F401
from . import db as _db  # noqa: F401
from . import demo as _demo  # noqa: F401
from . import dmn as _dmn  # noqa: F401
from . import engine as _engine  # noqa: F401
from . import history as _history  # noqa: F401
from . import mine_models as _mine_models  # noqa: F401
from . import org as _org  # noqa: F401
from . import serve as _serve  # noqa: F401
from . import simulate as _simulate  # noqa: F401
from . import staffing as _staffing  # noqa: F401
from . import tasks as _tasks  # noqa: F401
from . import worker as _worker  # noqa: F401
from ._app import app

__all__ = ["app", "main"]


def main() -> None:
    """Run the CLI; turn our errors into a message and exit status 2."""
    try:
        code = app(standalone_mode=False)
    except LiuchengError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        typer.echo("aborted", err=True)
        sys.exit(1)
    except typer.TyperException as exc:  # bad usage: the parser's own message, no traceback
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            typer.echo(f"error: {exc}", err=True)
        code = getattr(exc, "exit_code", 2)
        sys.exit(code if isinstance(code, int) else 2)
    except Exception as exc:  # last: the parser's own exceptions are handled above
        error = _database_error(exc)
        if error is None:
            raise
        typer.echo(f"error: {error}", err=True)
        sys.exit(2)
    # With standalone_mode=False, click returns a command's exit code instead of exiting.
    sys.exit(code if isinstance(code, int) else 0)


def _database_error(exc: Exception) -> LiuchengError | None:
    """The store's error for a SQLAlchemy database error (``None`` for anything else).

    A database that does not answer when a command opens the store, or a connection lost where
    no store transaction saw it (so possibly after a COMMIT), is reported like our own errors.
    """
    if "sqlalchemy.exc" not in sys.modules:
        return None  # (no database was used: the CLI does not import SQLAlchemy for nothing)
    from sqlalchemy.exc import DBAPIError

    from liucheng.store._retry import store_error

    return store_error(exc, committing=True) if isinstance(exc, DBAPIError) else None
