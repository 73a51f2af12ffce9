"""Local AWS emulator (RDS Query API, STS, Secrets Manager, SSM, IMDSv2, ECS
credentials) used by the test suite and the demo.  Faithful to AWS, not to our
client: every request is checked against botocore's service models."""
