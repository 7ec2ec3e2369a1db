"""The `decomposer` command (and `python -m decomposer`)."""

import os
import sys


def main() -> None:
    try:
        from decomposer.cli import app  # typer, rich, the pipeline: a moment to import
        from decomposer.lifetime import keep_until_exit
    except KeyboardInterrupt:  # Ctrl-C before the command handles it itself
        sys.stderr.write("interrupted\n")
        sys.exit(130)
    keep_until_exit()
    try:
        app(prog_name="decomposer")
    except SystemExit as done:
        # the output is written: end without freeing what the command built (lifetime.py)
        code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
        if done.code is not None and not isinstance(done.code, int):
            sys.stderr.write(f"{done.code}\n")
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


if __name__ == "__main__":
    main()
