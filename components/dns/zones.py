"""Reading the Route 53 zone ``ingressDns`` names, while the config is checked, before any resource.

Route 53 refuses a record outside its zone only when the ``up`` creates it, and a private zone
answers only inside its VPCs: the zone is read (``route53:GetHostedZone``) so both are refused up
front, naming the field. Route 53 is global; the read goes through a provider of its own.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.config import mesh_names as names
from components.config.stores import SecretReader, StoreReadError
from components.dns.route53 import ROUTE53_REGION
from components.platforms.aws.ca_store import cloud_reason


def route53_zone_reader() -> SecretReader:
    """A reader for one run: a zone's name (no trailing dot) by its ID; it registers its provider once."""
    providers: list[aws.Provider] = []

    def read(zone_id: str) -> str:
        if not providers:
            providers.append(aws.Provider(names.DNS_ZONE_PROVIDER.name(), region=ROUTE53_REGION))
        try:
            zone = aws.route53.get_zone(zone_id=zone_id, opts=pulumi.InvokeOptions(provider=providers[0]))
        except Exception as error:
            raise StoreReadError(
                f"could not be read ({cloud_reason(error)}): check the ID, and that the deployer may call route53:GetHostedZone"
            ) from None
        if zone.private_zone:
            raise StoreReadError(f"{zone_id} is a private hosted zone, which answers only inside its VPCs; name a public one")
        return zone.name.rstrip(".")

    return read
