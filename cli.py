"""Shim: `python cli.py ...` runs the `sourcing` command line from a checkout."""

from optimizer.entry import main

if __name__ == "__main__":
    main()
