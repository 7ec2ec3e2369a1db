"""The `decomposer` command (and `python -m decomposer`)."""

import sys


def main() -> None:
    try:
        from decomposer.cli import app  # typer, rich, the pipeline: a moment to import
    except KeyboardInterrupt:  # Ctrl-C before the command handles it itself
        sys.stderr.write("interrupted\n")
        sys.exit(130)
    app(prog_name="decomposer")


if __name__ == "__main__":
    main()
