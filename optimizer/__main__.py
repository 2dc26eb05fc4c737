"""`python -m optimizer` runs the command line."""

from optimizer.entry import main

main()
