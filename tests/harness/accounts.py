"""The cloud accounts the mocks answer for, and who runs Pulumi in them."""

from __future__ import annotations

SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
TENANT = "11111111-1111-1111-1111-111111111111"
ACCOUNT = "123456789012"
# Who runs Pulumi in the Entra tenant: an object id, a GUID.
DEPLOYER_OBJECT_ID = "0b5e7c2d-3f4a-4b6c-8d9e-1a2b3c4d5e6f"
# Who runs Pulumi in the AWS account: a CI role with a path, through an assumed-role session.
DEPLOYER_ROLE = f"arn:aws:iam::{ACCOUNT}:role/ci/deployer"
DEPLOYER_SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/deployer/ci"
