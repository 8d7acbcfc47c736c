"""`python -m submitter.cli ...` runs the `batchscore` command (for environments where the console
script is not on PATH, and for tests that need the interpreter they run under)."""

from submitter.cli.entrypoint import cli

if __name__ == "__main__":
    cli()
