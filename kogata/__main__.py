"""`python -m kogata`: the kogata command."""

from kogata.cli import main

main()
