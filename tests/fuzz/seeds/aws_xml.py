#!/usr/bin/python3
"""Regenerates tests/fuzz/corpus/aws_xml from the AWS emulator's real answers
(the bodies the commands read): describe pages of snapshots, cluster snapshots,
instances and clusters (with Marker), the changing calls' single results,
ListTagsForResource, STS AssumeRole / AssumeRoleWithWebIdentity, and error
documents. Run from the top of the tree: tests/fuzz/seeds/aws_xml.py"""
import hashlib
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "emulators"))
from awsemu.testing import Emulator  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "corpus", "aws_xml")
V = {"Version": "2014-10-31"}
CALLS = [
    ("rds", {"Action": "DescribeDBSnapshots", "DBInstanceIdentifier": "production-db",
             "MaxRecords": "20", **V}),
    ("rds", {"Action": "DescribeDBSnapshots", "DBInstanceIdentifier": "production-db",
             "SnapshotType": "manual", **V}),
    ("rds", {"Action": "DescribeDBClusterSnapshots", "DBClusterIdentifier": "production-aurora",
             **V}),
    ("rds", {"Action": "DescribeDBInstances", **V}),
    ("rds", {"Action": "DescribeDBInstances", "DBInstanceIdentifier": "nope", **V}),
    ("rds", {"Action": "DescribeDBClusters", **V}),
    ("rds", {"Action": "ListTagsForResource",
             "ResourceName": "arn:aws:rds:us-east-1:123456789012:db:production-db", **V}),
    ("rds", {"Action": "DescribeDBSnapshots", "MaxRecords": "1", **V}),
    ("sts", {"Action": "AssumeRole", "RoleArn": "arn:aws:iam::123456789012:role/dblab-rds-refresh",
             "RoleSessionName": "fuzz", "Version": "2011-06-15"}),
    ("sts", {"Action": "AssumeRole", "RoleArn": "arn:aws:iam::123456789012:role/nope",
             "RoleSessionName": "fuzz", "Version": "2011-06-15"}),
    ("sts", {"Action": "GetCallerIdentity", "Version": "2011-06-15"}),
]


def main():
    os.makedirs(OUT, exist_ok=True)
    with Emulator() as emu:
        bodies = []
        for service, params in CALLS:
            _, _, body = emu.signed(service, params)
            bodies.append(body)
        _, _, body = emu.raw("POST", "/", b"Action=AssumeRoleWithWebIdentity&Version=2011-06-15"
                             b"&RoleArn=arn:aws:iam::123456789012:role/dblab-rds-refresh-irsa"
                             b"&RoleSessionName=f&WebIdentityToken=emulator-web-identity-token",
                             {"Content-Type": "application/x-www-form-urlencoded"})
        bodies.append(body)
    for body in bodies:
        name = hashlib.sha1(body).hexdigest()[:16]
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(body)
    print(f"{len(bodies)} bodies in {OUT}")


if __name__ == "__main__":
    main()
