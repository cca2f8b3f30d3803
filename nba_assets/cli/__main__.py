"""``python -m nba_assets.cli``: the same as the ``nba-assets`` command."""

from nba_assets.cli import run

run()
