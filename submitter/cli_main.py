"""`python -m submitter.cli_main ...` runs the `batchscore` command (for environments where the
console script is not on PATH, and for tests that need the interpreter they run under)."""

from submitter.cli import app

if __name__ == "__main__":
    app(prog_name="batchscore")
