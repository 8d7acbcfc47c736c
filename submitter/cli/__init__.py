"""The `batchscore` command line (`entrypoint.app`), one module per group of commands.

It drives deployments from a terminal: it resolves a deployment (`target`), then calls the same
functions the Lambdas use (`submitter.*`), and it starts the local stack (`submitter.local`),
never the reverse. Left out of the Lambda zip.
"""
