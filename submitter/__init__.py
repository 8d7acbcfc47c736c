"""The Lambda side: S3 uploads become job records and Batch jobs; Batch events keep records exact.

`submitter.cli` (the `batchscore` command) lives here too because most of what it does is submit
and follow jobs; it is left out of the Lambda zip.
"""
