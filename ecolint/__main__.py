"""`python -m ecolint`: the console entry point, whole-run memo first (ecolint/memo.py)."""

from ecolint.memo import main

if __name__ == "__main__":
    main()
