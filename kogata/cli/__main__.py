"""`python -m kogata.cli`: the kogata command."""

from kogata.cli import main

main()
