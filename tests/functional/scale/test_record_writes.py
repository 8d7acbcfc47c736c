"""Simulation: the job record's writes for one array job, by the real `job.status` code against
moto's DynamoDB, with each write's WCUs computed as DynamoDB bills an UpdateItem (the larger of
the item's size before and after, per started KiB). Figures in docs/scale-requests.md.

The shard counter (`count_shard_done`) is still the old design: its cost grows with the square
of the shard count, on one item. This test measures it, so the doc's figure is not a guess."""

from __future__ import annotations

import itertools
import json
import math

import boto3
import pytest
from moto import mock_aws
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.utilities import bytesize
from support import jobdata

from config import records
from job import status

TABLE = "jobs"
EXPECTED_FIRST_SIZE = 377
EXPECTED_WCU = 2_249


def item_size(ddb) -> int:
    item = ddb.get_item(TableName=TABLE, Key={records.KEY: {"S": "job-sim"}})["Item"]
    return sum(bytesize(name) + DynamoType(value).size() for name, value in item.items())


@pytest.mark.slow
def test_the_shard_counter_costs_grow_with_the_square_of_the_shards() -> None:
    shards = 1_000  # moto's number sets make this O(N^2): 10,000 takes minutes
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        ddb.create_table(**records.table_definition(TABLE))
        document = jobdata.config("s3://m/model.skops", "s3://d/in/", "s3://d/out/", shards=shards)
        records.create_record(
            ddb,
            TABLE,
            {
                "job_id": "job-sim",
                "name": "sim",
                "status": "SUBMITTED",
                "priority": "normal",
                "queue": "normal",
                "config": json.dumps(document),
                "shards": shards,
            },
        )
        sizes = [item_size(ddb)]
        for shard in range(shards):
            status.count_shard_done(ddb, TABLE, "job-sim", shard)
            sizes.append(item_size(ddb))
    wcu = [math.ceil(max(a, b) / 1024) for a, b in itertools.pairwise(sizes)]
    per_shard = (sizes[-1] - sizes[0]) / shards
    print(
        f"\nfirst item {sizes[0]} B, last {sizes[-1]} B, {per_shard:.2f} B per shard; "
        f"{shards} writes, {sum(wcu)} WCU, last write {wcu[-1]} WCU"
    )
    # the item grows by each shard's number (DynamoDB: ~1 byte per 2 digits, +1)
    assert 2 <= per_shard <= 4
    # the writes get dearer as the set grows: the last costs several times the first
    assert wcu[-1] >= wcu[0] + math.floor(shards * 2 / 1024)
    # the figures docs/scale-requests.md quotes (moto sizes items as DynamoDB documents it)
    assert (sizes[0] // 100, sum(wcu)) == (EXPECTED_FIRST_SIZE // 100, EXPECTED_WCU)
