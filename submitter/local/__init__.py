"""The local AWS emulator: a moto server (S3, DynamoDB, Logs), a local AWS Batch that runs real
processes, and the pump that turns uploads into S3 events. The CLI and the tests start it; it never
imports the CLI."""
