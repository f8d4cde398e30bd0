"""``python -m liucheng``: the same command line as the ``liucheng`` script."""

from liucheng.cli import main

if __name__ == "__main__":
    main()
