"""otodesk's command line: `otodesk serve|demo|db|user|ccr|analytics` (desktop/cli/commands.py)."""

from desktop.cli.commands import main

__all__ = ["main"]
