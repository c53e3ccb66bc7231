"""Which input changes make a provider replace a resource rather than update it, per resource type.

Every type the program registers has an entry, each citing the provider source it comes from;
``tests/test_replacements.py`` fails on a registered type without one, so no type slips in
unmodelled. An entry with no paths is an explicit "none known" whose ``source`` says what was
searched. The rules the harness applies with it (``tests.harness.engine.operation``):

- a change at or under one of ``paths`` replaces the resource (``a.b`` for nested inputs, ``a[].b``
  for a field of every element of a list);
- ``renewal``: pulumi-tls also replaces a certificate, on any update, once its early-renewal time
  has come (``modifyPlanIfCertificateReadyForRenewal``, terraform-provider-tls
  internal/provider/common_cert.go);
- a component (``component``) is never asked about: the engine updates a component whose inputs
  changed and never replaces it (pkg/resource/deploy/step_generator.go ``diff``: "If there is no
  provider for this resource (which should only happen for component resources)" inputs that
  differ are an update). A remote component's ``paths`` are its inputs that make its provider
  replace the cloud resource inside it, which the harness cannot see: its operation stands for
  that child's.

Which replacements delete the old resource first (``deletes_first``):

- azure-native asks for delete-before-replace on every replacement of a resource it did not name
  at random (provider/pkg/provider/provider.go ``Diff``: ``deleteBeforeReplace := len(replaces) >
  0`` unless the ``__createBeforeDelete`` flag of an auto-named resource is set), even when the
  name itself changes;
- pulumi-kubernetes when the object keeps its name and namespace (provider.go ``Diff``: "the new,
  user-specified name is the same as the old name");
- the bridged Terraform providers (aws, tls, random) when a name the program set is unchanged
  (pulumi-terraform-bridge#532 ``physicalNameFields``; pulumi-terraform#465);
- the ``delete_before_replace`` resource option overrides all of these, true or false
  (step_generator.go: "The user can override the provider's decision by setting the
  `deleteBeforeReplace` field of `ResourceOptions` to either `true` or `false`").
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

TF_TLS = "terraform-provider-tls v4 internal/provider/{} (RequiresReplace plan modifiers), behind pulumi-tls 5.x"
TF_AWS = "terraform-provider-aws internal/service/{} (ForceNew), behind pulumi-aws 7.x"
TF_RANDOM = "terraform-provider-random internal/provider/resource_string.go (RequiresReplace; keepers RequiresReplaceIfValuesNotNull)"
AZ_PATH = "pulumi-azure-native provider/pkg/provider/diff.go: every parameter of the resource's URL path replaces it"
AZ_FORCE_NEW = "provider/pkg/gen/replacement.go forceNewMap"
K8S_DIFF = "pulumi-kubernetes provider/pkg/provider/diff.go forceNewProperties: every object's metadata.name and metadata.namespace"
ENGINE_COMPONENT = "a component resource: pkg/resource/deploy/step_generator.go never asks a provider about it"


@dataclass(frozen=True)
class Replacement:
    """How the provider of one resource type decides between updating and replacing it.

    Args:
        source: where the provider says so; for "none known", what was searched.
        paths: inputs whose change replaces the resource (default none).
        name: the input that names the resource, which decides delete-before-replace (default ""
            for none: the provider names it, or it has no name).
        renewal: pulumi-tls's early renewal applies (default false).
        component: the engine never asks a provider about it (default false).
    """

    source: str
    paths: tuple[str, ...] = ()
    name: str = ""
    renewal: bool = False
    component: bool = False


def _k8s(*extra: str, name: str = "metadata.name") -> Replacement:
    return Replacement(f"{K8S_DIFF}{', and ' + ', '.join(extra) if extra else ''}", ("metadata.name", "metadata.namespace", *extra), name)


def _azure(*path: str, force_new: tuple[str, ...] = (), name: str, source: str = "") -> Replacement:
    """An azure-native type: its URL path parameters (``path``, the naming one ``name``) and the
    properties forceNewMap, the specs' ``x-ms-mutability`` or ``source`` add (``force_new``)."""
    cited = f"{AZ_PATH} ({', '.join(path)})" + (f"; {source}" if source else "")
    return Replacement(cited, (*path, *force_new), name)


TLS_CERT = ("validityPeriodHours", "allowedUses", "isCaCertificate", "maxPathLength", "setSubjectKeyId")
# The networkProfile leaves forceNewMap lists for ManagedCluster since pulumi-azure-native#4771
# (3.22.0; the project pins 3.29.0): loadBalancerProfile and the rest of the profile update in place.
AKS_NETWORK = (
    "serviceCidr",
    "serviceCidrs",
    "dnsServiceIP",
    "networkMode",
    "networkPlugin",
    "networkPluginMode",
    "podCidr",
    "networkDataplane",
    "networkPolicy",
    "outboundType",
)

REPLACEMENTS: dict[str, Replacement] = {
    # --- pulumi-tls ----------------------------------------------------------------------------------
    "tls:index/privateKey:PrivateKey": Replacement(TF_TLS.format("resource_private_key.go"), ("algorithm", "rsaBits", "ecdsaCurve")),
    "tls:index/certRequest:CertRequest": Replacement(
        TF_TLS.format("resource_cert_request.go; a changed PEM input replaces it (requireReplaceIfStateContainsPEMString)"),
        ("privateKeyPem", "subject", "dnsNames", "ipAddresses", "uris"),
    ),
    "tls:index/selfSignedCert:SelfSignedCert": Replacement(
        TF_TLS.format("resource_self_signed_cert.go; earlyRenewalHours alone updates in place (updatedUsingPlan keeps the certificate)"),
        ("privateKeyPem", "subject", "dnsNames", "ipAddresses", "uris", "setAuthorityKeyId", *TLS_CERT),
        renewal=True,
    ),
    "tls:index/locallySignedCert:LocallySignedCert": Replacement(
        TF_TLS.format("resource_locally_signed_cert.go; a new CA certificate or key re-issues it (requireReplaceIfStateContainsPEMString)"),
        ("certRequestPem", "caCertPem", "caPrivateKeyPem", *TLS_CERT),
        renewal=True,
    ),
    # --- pulumiverse-time ----------------------------------------------------------------------------
    # terraform-provider-time internal/provider/resource_time_sleep.go: triggers RequiresReplace (the
    # wait runs again); the durations update in place and wait for nothing.
    "time:index/sleep:Sleep": Replacement(
        "terraform-provider-time internal/provider/resource_time_sleep.go (triggers RequiresReplace), behind pulumiverse-time",
        ("triggers",),
    ),
    # --- pulumi-random -------------------------------------------------------------------------------
    "random:index/randomString:RandomString": Replacement(
        TF_RANDOM,
        (
            "keepers",
            "length",
            "special",
            "upper",
            "lower",
            "number",
            "numeric",
            "minNumeric",
            "minUpper",
            "minLower",
            "minSpecial",
            "overrideSpecial",
        ),
    ),
    # --- pulumi-azure-native -------------------------------------------------------------------------
    "azure-native:resources:ResourceGroup": _azure(
        "resourceGroupName", force_new=("location",), name="resourceGroupName", source=AZ_FORCE_NEW
    ),
    "azure-native:network:VirtualNetwork": _azure(
        "resourceGroupName", "virtualNetworkName", force_new=("location",), name="virtualNetworkName", source=AZ_FORCE_NEW
    ),
    "azure-native:network:Subnet": _azure(
        "resourceGroupName", "virtualNetworkName", "subnetName", name="subnetName", source=f"{AZ_FORCE_NEW}: none for Subnet"
    ),
    "azure-native:network:VirtualNetworkPeering": _azure(
        "resourceGroupName",
        "virtualNetworkName",
        "virtualNetworkPeeringName",
        name="virtualNetworkPeeringName",
        source="none known beyond the path: not in forceNewMap, no x-ms-mutability in the 2024-05-01 spec's peering properties",
    ),
    "azure-native:network:PublicIPAddress": _azure(
        "resourceGroupName",
        "publicIpAddressName",
        force_new=("location", "publicIPAddressVersion", "publicIPPrefix", "sku"),
        name="publicIpAddressName",
        source=f"{AZ_FORCE_NEW}; zones: none known (no x-ms-mutability in publicIpAddress.json 2024-05-01)",
    ),
    "azure-native:containerservice:ManagedCluster": _azure(
        "resourceGroupName",
        "resourceName",
        force_new=(
            "location",
            "dnsPrefix",
            "fqdnSubdomain",
            "diskEncryptionSetID",
            "linuxProfile",
            "nodeResourceGroup",
            "windowsProfile",
            *(f"networkProfile.{leaf}" for leaf in AKS_NETWORK),
            "agentPoolProfiles[].networkProfile.nodePublicIPTags",
        ),
        name="resourceName",
        source=f"{AZ_FORCE_NEW} (networkProfile: only its listed leaves, pulumi-azure-native#4756)",
    ),
    "azure-native:containerservice:AgentPool": _azure(
        "resourceGroupName",
        "resourceName",
        "agentPoolName",
        force_new=("gpuInstanceProfile", "vmSize", "networkProfile.nodePublicIPTags"),
        name="agentPoolName",
        source=AZ_FORCE_NEW,
    ),
    "azure-native:keyvault:Vault": _azure(
        "resourceGroupName",
        "vaultName",
        name="vaultName",
        source="location: none known (keyvault.json 2024-11-01 gives it no x-ms-mutability, forceNewMap nothing for KeyVault)",
    ),
    "azure-native:trafficmanager:Profile": _azure(
        "resourceGroupName",
        "profileName",
        force_new=("dnsConfig.relativeName",),
        name="profileName",
        source="dnsConfig.relativeName: the profile's DNS name is fixed once created (azurerm's traffic_manager_profile "
        "makes relative_name ForceNew); the program names the profile after it anyway",
    ),
    "azure-native:containerregistry:Registry": _azure(
        "resourceGroupName",
        "registryName",
        force_new=("location",),
        name="registryName",
        source="location: ACR's Resource.location, which 'cannot be changed after the resource is created' "
        "(containerregistry.json, x-ms-mutability [read, create]); sku and adminUserEnabled update in place",
    ),
    "azure-native:keyvault:Secret": _azure(
        "resourceGroupName", "vaultName", "secretName", name="secretName", source="none known beyond the path (keyvault.json 2024-11-01)"
    ),
    "azure-native:authorization:RoleAssignment": _azure(
        "scope", "roleAssignmentName", force_new=("principalId",), name="roleAssignmentName", source=f"{AZ_FORCE_NEW} (principalId, scope)"
    ),
    "azure-native:managedidentity:UserAssignedIdentity": _azure(
        "resourceGroupName",
        "resourceName",
        force_new=("location",),
        name="resourceName",
        source="location: x-ms-mutability [read, create] on common-types TrackedResource.location",
    ),
    "azure-native:managedidentity:FederatedIdentityCredential": _azure(
        "resourceGroupName",
        "resourceName",
        "federatedIdentityCredentialResourceName",
        name="federatedIdentityCredentialResourceName",
        source="issuer, subject, audiences: none known (not in forceNewMap)",
    ),
    # --- pulumi-aws ----------------------------------------------------------------------------------
    "aws:ec2/vpc:Vpc": Replacement(TF_AWS.format("ec2/vpc_.go"), ("cidrBlock", "ipv4IpamPoolId", "ipv4NetmaskLength")),
    "aws:ec2/subnet:Subnet": Replacement(
        TF_AWS.format("ec2/vpc_subnet.go"), ("vpcId", "cidrBlock", "availabilityZone", "availabilityZoneId", "ipv6Native", "outpostArn")
    ),
    "aws:ec2/internetGateway:InternetGateway": Replacement(
        TF_AWS.format("ec2/vpc_internet_gateway.go") + ": none known (vpc_id is attached and detached in place)"
    ),
    "aws:ec2/routeTable:RouteTable": Replacement(TF_AWS.format("ec2/vpc_route_table.go"), ("vpcId",)),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": Replacement(
        TF_AWS.format("ec2/vpc_route_table_association.go (route_table_id is replaced in place)"), ("subnetId", "gatewayId")
    ),
    "aws:ec2/route:Route": Replacement(
        TF_AWS.format("ec2/vpc_route.go (targets update in place)"),
        ("routeTableId", "destinationCidrBlock", "destinationIpv6CidrBlock", "destinationPrefixListId"),
    ),
    "aws:ec2/eip:Eip": Replacement(
        TF_AWS.format("ec2/ec2_eip.go"), ("domain", "address", "customerOwnedIpv4Pool", "networkBorderGroup", "publicIpv4Pool")
    ),
    "aws:ec2/natGateway:NatGateway": Replacement(
        TF_AWS.format("ec2/vpc_nat_gateway.go"),
        ("allocationId", "connectivityType", "privateIp", "secondaryPrivateIpAddressCount", "subnetId"),
    ),
    "aws:ec2/vpcPeeringConnection:VpcPeeringConnection": Replacement(
        TF_AWS.format("ec2/vpc_peering_connection.go"), ("vpcId", "peerVpcId", "peerOwnerId", "peerRegion")
    ),
    "aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter": Replacement(
        TF_AWS.format("ec2/vpc_peering_connection_accepter.go"), ("vpcPeeringConnectionId",)
    ),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": Replacement(
        TF_AWS.format("ec2/vpc_security_group_ingress_rule.go (the rule's fields are modified in place)"), ("securityGroupId",)
    ),
    "aws:iam/role:Role": Replacement(TF_AWS.format("iam/role.go"), ("name", "namePrefix", "path"), "name"),
    "aws:iam/policy:Policy": Replacement(TF_AWS.format("iam/policy.go"), ("name", "namePrefix", "path", "description"), "name"),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": Replacement(TF_AWS.format("iam/role_policy_attachment.go"), ("role", "policyArn")),
    "aws:secretsmanager/secret:Secret": Replacement(TF_AWS.format("secretsmanager/secret.go"), ("name", "namePrefix"), "name"),
    "aws:secretsmanager/secretVersion:SecretVersion": Replacement(
        TF_AWS.format("secretsmanager/secret_version.go: a new value is a new version"),
        ("secretId", "secretString", "secretBinary", "secretStringWoVersion"),
    ),
    "aws:eks/addon:Addon": Replacement(
        TF_AWS.format("eks/addon.go: addon_version, configuration_values and the conflict settings update in place"),
        ("addonName", "clusterName", "namespaceConfig"),
    ),
    "aws:acm/certificate:Certificate": Replacement(
        TF_AWS.format("acm/certificate.go"),
        ("domainName", "subjectAlternativeNames", "validationMethod", "keyAlgorithm", "certificateAuthorityArn", "validationOptions"),
    ),
    "aws:acm/certificateValidation:CertificateValidation": Replacement(
        TF_AWS.format("acm/certificate_validation.go"), ("certificateArn", "validationRecordFqdns")
    ),
    "aws:route53/record:Record": Replacement(
        TF_AWS.format("route53/record.go: routing policies, set_identifier, type, records and alias update in place"),
        ("zoneId", "name"),
    ),
    "aws:route53/healthCheck:HealthCheck": Replacement(
        TF_AWS.format("route53/health_check.go: ip_address, port and resource_path update in place"),
        ("type", "requestInterval", "measureLatency", "referenceName", "routingControlArn"),
    ),
    # --- pulumi-eks (remote components) --------------------------------------------------------------
    "eks:index:Cluster": Replacement(
        "pulumi-eks nodejs/eks/cluster.ts passes name and kubernetesServiceIpAddressRange (as kubernetesNetworkConfig."
        "serviceIpv4Cidr) to aws:eks/cluster:Cluster, where terraform-provider-aws internal/service/eks/cluster.go makes "
        "them ForceNew (vpc_config.subnet_ids, version and the endpoint access update in place)",
        ("name", "kubernetesServiceIpAddressRange"),
        component=True,
    ),
    "eks:index:ManagedNodeGroup": Replacement(
        "pulumi-eks passes these to aws:eks/nodeGroup:NodeGroup, ForceNew in terraform-provider-aws "
        "internal/service/eks/node_group.go (scaling_config, labels and version update in place)",
        (
            "cluster",
            "nodeGroupName",
            "nodeGroupNamePrefix",
            "subnetIds",
            "instanceTypes",
            "amiType",
            "capacityType",
            "diskSize",
            "nodeRole",
            "remoteAccess",
        ),
        component=True,
    ),
    # --- pulumi-kubernetes ---------------------------------------------------------------------------
    "kubernetes:core/v1:Namespace": _k8s(),
    "kubernetes:core/v1:ConfigMap": _k8s("data", "binaryData"),
    # Secrets and ConfigMaps replace on data only while the provider's enableSecretMutable and
    # enableConfigMapMutable are off (their defaults); a provider with enableSecretMutable updates a
    # Secret that is not immutable in place (MUTABLE_SECRET; tests.harness.engine.replaced_inputs).
    "kubernetes:core/v1:Secret": _k8s("type", "stringData", "data"),
    "kubernetes:core/v1:Service": _k8s("spec.clusterIP"),
    "kubernetes:apps/v1:Deployment": _k8s("spec.selector"),
    "kubernetes:batch/v1:Job": _k8s("spec.template", "spec.selector", "spec.completions", "spec.parallelism"),
    "kubernetes:admissionregistration.k8s.io/v1:MutatingWebhookConfiguration": _k8s(),
    "kubernetes:metallb.io/v1beta1:IPAddressPool": _k8s(),
    "kubernetes:metallb.io/v1beta1:L2Advertisement": _k8s(),
    "kubernetes:networking.istio.io/v1:Gateway": _k8s(),
    "kubernetes:networking.k8s.io/v1:Ingress": _k8s(),
    "kubernetes:networking.istio.io/v1:VirtualService": _k8s(),
    "kubernetes:gateway.networking.k8s.io/v1:Gateway": _k8s(),
    "kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass": _k8s(),
    "kubernetes:helm.sh/v3:Release": Replacement(
        "pulumi-kubernetes provider/pkg/provider/helm_release.go forceNewFields", ("name", "namespace"), "name"
    ),
    "kubernetes:yaml/v2:ConfigFile": Replacement(
        f"{ENGINE_COMPONENT}; its objects are the kubernetes provider's, replaced by their own rules", component=True
    ),
    # --- providers -----------------------------------------------------------------------------------
    "pulumi:providers:kubernetes": Replacement(
        "pulumi-kubernetes Provider docs: with clusterIdentifier set 'the provider will _only_ be replaced when "
        "`clusterIdentifier` changes; all other changes to provider configuration will be treated as updates'",
        ("clusterIdentifier",),
    ),
    "pulumi:providers:aws": Replacement(
        "none known: each provider is named after its region (components/platforms/aws/network.py), so a region "
        "is a provider of its own, never a change of one"
    ),
}

PROGRAM_PREFIX = "istio-multicluster:"
PROGRAM_COMPONENT = Replacement(f"{ENGINE_COMPONENT} (the program's own components)", component=True)


def rule_for(type_: str) -> Replacement | None:
    """The type's entry; the program's own components all share one (never replaced)."""
    return PROGRAM_COMPONENT if type_.startswith(PROGRAM_PREFIX) else REPLACEMENTS.get(type_)


def values_at(tree: Any, path: str) -> list[Any]:
    """The values at ``path`` (``a.b``, ``a[].b``: every element's ``b``) in ``tree``; [] when absent."""
    found = [tree]
    for step in path.split("."):
        each = step.endswith("[]")
        key = step.removesuffix("[]")
        found = [item[key] for item in found if isinstance(item, Mapping) and item.get(key) is not None]
        if each:
            found = [element for item in found if isinstance(item, list) for element in item]
    return found


# A Secret under a provider with enableSecretMutable: only its name and namespace replace it.
MUTABLE_SECRET = _k8s()


def changed_paths(rule: Replacement, prior: Mapping[str, Any], inputs: Mapping[str, Any]) -> list[str]:
    """The rule's paths whose values differ between ``prior`` and ``inputs``."""
    return [path for path in rule.paths if values_at(prior, path) != values_at(inputs, path)]


def renewal_due(outputs: Mapping[str, Any], inputs: Mapping[str, Any], now: datetime.datetime) -> bool:
    """pulumi-tls replaces a certificate on any update from ``validityEndTime - earlyRenewalHours`` on."""
    end = outputs.get("validityEndTime")
    if not end:
        return False
    expiry = datetime.datetime.strptime(end, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.UTC)
    return expiry - datetime.timedelta(hours=int(inputs.get("earlyRenewalHours") or 0)) <= now


def named_the_same(rule: Replacement, prior: Mapping[str, Any], inputs: Mapping[str, Any]) -> bool:
    """Whether the program set the resource's name and kept it (kubernetes: namespace too)."""
    if not rule.name or not values_at(inputs, rule.name):
        return False
    paths = (rule.name, "metadata.namespace") if rule.name == "metadata.name" else (rule.name,)
    return all(values_at(prior, p) == values_at(inputs, p) for p in paths)


DeleteFirst = Callable[[Replacement, Mapping[str, Any], Mapping[str, Any]], bool]


def _azure_deletes_first(rule: Replacement, _prior: Mapping[str, Any], inputs: Mapping[str, Any]) -> bool:
    return bool(rule.name) and bool(values_at(inputs, rule.name))


PROVIDER_DELETES_FIRST: dict[str, DeleteFirst] = {
    "azure-native": _azure_deletes_first,
    "kubernetes": named_the_same,
    "aws": named_the_same,
    "tls": named_the_same,
    "random": named_the_same,
}


def deletes_first(type_: str, prior: Mapping[str, Any], inputs: Mapping[str, Any], option: bool | None) -> bool:
    """Whether a replacement of this resource deletes the old one before creating the new: the
    ``delete_before_replace`` option if set, else the provider's choice (see the module docstring)."""
    if option is not None:
        return option
    rule = rule_for(type_)
    choose = PROVIDER_DELETES_FIRST.get(type_.split(":", 1)[0])
    return bool(rule and choose and choose(rule, prior, inputs))
