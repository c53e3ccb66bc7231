"""EdgeCertificates: the ACM certificates for the mesh's name that the ALB edges serve.

With ``ingressDns`` on Route 53 the program requests one certificate for the mesh's name in each
region that has an edge (an ALB takes certificates of its own region only; edges in one region
share it), validated by DNS in the mesh's Route 53 zone. An edge without ``certificateArn`` serves
it alone; one with serves its own by default and this one by SNI, so a client of the mesh's name
gets a certificate naming it whatever the given one covers (ACM's certificates for public names
are free).

ACM gives the same validation record (a CNAME) for one name to every certificate of the account in
every region ("the CNAME validation token works for any AWS Region", ACM User Guide, DNS
validation), so the mesh keeps exactly one: made from the certificate of the first region by name,
and every certificate's ``CertificateValidation`` waits on it. It goes through a provider of its
own (Route 53 is global): were it the first region's, adding or dropping a region that sorts first
would move it to another provider, which replaces it, and the replacement, created first, would
be the same record set written twice. One record per region would be the
same record set written twice, which Route 53 refuses, and deleting either would stop both
certificates from renewing. ACM renews them itself while the record stays and they are in use.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.config.model import IngressDns
from components.platforms.aws import names

VALIDATION_TTL = 300
# Route 53 is global: its API is served from us-east-1 for the aws partition.
ROUTE53_REGION = "us-east-1"


@dataclass(frozen=True)
class EdgeCertificatesArgs:
    """Inputs of ``EdgeCertificates``.

    Args:
        dns: the mesh's ``ingressDns``: the name certified and the zone validating it.
        regions: the regions that need a certificate, each with its AWS provider.
    """

    dns: IngressDns
    regions: Mapping[str, pulumi.ProviderResource]


class EdgeCertificates(pulumi.ComponentResource):
    """See the module docstring. Output ``arns``: each region's validated certificate ARN, by region;
    it resolves once ACM issued the certificate (``CertificateValidation`` waits for it)."""

    arns: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: EdgeCertificatesArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(names.EDGE_CERTIFICATES.type, name, None, opts)
        regions = sorted(args.regions)
        certificates = {
            region: aws.acm.Certificate(
                names.EDGE_CERTIFICATE.name(certificates=name, region=region),
                domain_name=args.dns.name,
                validation_method="DNS",
                tags={"Name": args.dns.name},
                opts=pulumi.ResourceOptions(parent=self, provider=args.regions[region]),
            )
            for region in regions
        }
        first = certificates[regions[0]]
        route53 = aws.Provider(names.EDGE_ROUTE53.name(certificates=name), region=ROUTE53_REGION, opts=pulumi.ResourceOptions(parent=self))
        option = first.domain_validation_options.apply(_only_option)
        record = aws.route53.Record(
            names.EDGE_VALIDATION_RECORD.name(certificates=name),
            zone_id=args.dns.zone_id,
            name=option.apply(lambda o: o.resource_record_name or ""),
            type=option.apply(lambda o: o.resource_record_type or ""),
            records=[option.apply(lambda o: o.resource_record_value or "")],
            ttl=VALIDATION_TTL,
            # An operator's own certificate for the name, validated in this zone, has this very
            # record already (one CNAME per name and account): UPSERT it rather than fail the CREATE,
            # and leave it at destroy, when that certificate still needs it to renew.
            allow_overwrite=True,
            opts=pulumi.ResourceOptions(parent=self, provider=route53, retain_on_delete=True),
        )
        self.arns = {
            region: aws.acm.CertificateValidation(
                names.EDGE_VALIDATION.name(certificates=name, region=region),
                certificate_arn=certificate.arn,
                validation_record_fqdns=[record.fqdn],
                opts=pulumi.ResourceOptions(parent=self, provider=args.regions[region]),
            ).certificate_arn
            for region, certificate in certificates.items()
        }
        self.register_outputs({"arns": self.arns})


def _only_option(
    options: Sequence[aws.acm.outputs.CertificateDomainValidationOption],
) -> aws.acm.outputs.CertificateDomainValidationOption:
    """A certificate for one name has one validation option."""
    if len(options) != 1:
        raise ValueError(
            f"ACM gave {len(options)} DNS validation options for a certificate of one name; run pulumi refresh, then pulumi up"
        )
    return options[0]
