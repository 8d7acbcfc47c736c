"""The Lambda side: S3 uploads become job records and Batch jobs; Batch events keep records exact.

Everything directly in this package ships in the Lambda zip. Its two subpackages do not: `cli`
(the `batchscore` command) and `local` (the embedded AWS emulator the CLI and the tests start).
"""
