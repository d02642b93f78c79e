"""`python -m broadcaster` runs the same CLI as the `broadcaster` console script."""

from broadcaster.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
