"""Pulumi mocks that answer the way the real providers do.

- pulumi-tls: real RSA keys and X.509 certificates (``tls_mock``), ids as the provider sets them.
- azure-native: ARM ids, AKS FQDNs, OIDC issuer URLs, add-on identities; the AKS credentials
  invokes return base64 kubeconfigs whose server is the cluster's FQDN.
- pulumi-eks: ``eks:index:Cluster`` is a remote component, so the mock sees that one resource and
  none of its children. Like the real provider it registers the ``aws:eks/cluster:Cluster`` child
  in the monitor and returns ``eksCluster``/``core.cluster`` as resource references to it.
- pulumi-kubernetes: a ``kubernetes.io/service-account-token`` Secret comes back with
  ``data.token`` and ``data["ca.crt"]`` filled, as the provider's await logic returns it, the
  CA being the one in the kubeconfig of the Secret's provider.
Anything else echoes its inputs with a stable id, as a create would.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import ipaddress
import json
import re
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import yaml
from pulumi.runtime.mocks import MockCallArgs, MockResourceArgs, Mocks

from tests.harness import ec2_rules, route53, tls_mock
from tests.harness.accounts import ACCOUNT, DEPLOYER_OBJECT_ID, DEPLOYER_ROLE, DEPLOYER_SESSION, SUBSCRIPTION, TENANT
from tests.harness.engine import Prior
from tests.harness.monitor import STACK_REFERENCE, RecordingMonitor, unwrap_secrets
from tests.harness.stores import InvokeError, OtherStack, Route53Zones, SecretsManager

Handler = Callable[[MockResourceArgs], tuple[str, dict[str, Any]]]
TLS = "tls:"
PRIVATE_KEY = "tls:index/privateKey:PrivateKey"
RANDOM_STRING = "random:index/randomString:RandomString"
SECRET_VERSION = "aws:secretsmanager/getSecretVersion:getSecretVersion"


def digest(*parts: str, length: int = 8) -> str:
    """A stable hex string derived from ``parts``: the same inputs give the same ids every run."""
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


def public_address(first_octet: str, *parts: str) -> str:
    """A stable public IPv4 address for a cloud's Elastic or public IP (AWS: 52.x, Azure: 20.x)."""
    octets = bytes.fromhex(digest(*parts, length=6))
    return f"{first_octet}.{octets[0]}.{octets[1]}.{max(octets[2], 1)}"


# Kubernetes types that are not objects of their own: Helm releases and YAML components (their ids differ).
KUBERNETES_NOT_OBJECTS = ("kubernetes:helm.sh/", "kubernetes:yaml/")


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def addon_version(addon: str, kubernetes_version: str, most_recent: bool) -> str:
    """What the mock EKS answers for an add-on's version: its default for the Kubernetes version,
    or a newer build with ``most_recent`` (AWS publishes builds after a version's default)."""
    build = 9 if most_recent else 1
    return f"v{kubernetes_version}.0-{addon}-eksbuild.{build}"


def addon_version_answer(args: MockCallArgs) -> dict[str, Any]:
    addon, kubernetes_version = args.args["addonName"], args.args["kubernetesVersion"]
    version = addon_version(addon, kubernetes_version, bool(args.args.get("mostRecent")))
    return {"addonName": addon, "kubernetesVersion": kubernetes_version, "version": version, "id": addon}


class MeshMocks(Mocks):
    """Mocks for every provider the program uses; ``monitor`` is set by the runner.

    Args:
        first_key: the first of the stored keys this run's private keys take (default 0). Each
            private key of a run gets a key of its own, in the order the run asks for them, so
            runs share a few stored keys rather than making one per resource name; a test that
            needs keys no other run has (a foreign CA) starts further on.
        zones: the available zones of a region, name -> zone ID, by region (default: every region
            has zones a, b and c, and the account maps b to the region's az3).
    """

    def __init__(self, first_key: int = 0, zones: Mapping[str, Mapping[str, str]] | None = None) -> None:
        self.monitor: RecordingMonitor | None = None
        # This stack's outputs as its last completed update left them (the engine's
        # pulumi:pulumi:readStackOutputs answers with them), and the stack they belong to.
        self.previous_outputs: dict[str, Any] = {}
        self.stack_name = ""
        # Other stacks of the backend (fleet mode): their outputs, and which of them are secrets, by
        # fully qualified stack name.
        self.other_stacks: dict[str, OtherStack] = {}
        # Secrets Manager's secrets, which the program may read provided intermediates from.
        self.secrets_manager = SecretsManager()
        self.route53_zones = Route53Zones()
        # Record sets someone else keeps in the hosted zones; with those of the state, what the
        # zones hold when the run starts (``route53.HostedZones``).
        self.foreign_record_sets: list[route53.RecordSet] = []
        self._record_sets: route53.HostedZones | None = None
        self._group_rules: ec2_rules.SecurityGroupRules | None = None
        self._zones = dict(zones or {})
        self._keys: dict[str, int] = {}
        self._first_key = first_key
        self._handlers: dict[str, Handler] = {
            PRIVATE_KEY: self._private_key,
            "tls:index/certRequest:CertRequest": lambda a: (a.name, tls_mock.cert_request(a.inputs)),
            "tls:index/selfSignedCert:SelfSignedCert": self._cert(tls_mock.self_signed_cert),
            "tls:index/locallySignedCert:LocallySignedCert": self._cert(tls_mock.locally_signed_cert),
            "azure-native:containerservice:ManagedCluster": self._managed_cluster,
            "eks:index:Cluster": self._eks_cluster,
            "kubernetes:core/v1:Secret": self._secret,
            "kubernetes:core/v1:Service": self._service,
            "kubernetes:networking.k8s.io/v1:Ingress": self._ingress,
            "kubernetes:helm.sh/v3:Release": self._helm_release,
            RANDOM_STRING: self._random_string,
            "aws:acm/certificate:Certificate": self._acm_certificate,
            "aws:acm/certificateValidation:CertificateValidation": self._acm_validation,
            "aws:route53/record:Record": self._route53_record,
            "aws:route53/healthCheck:HealthCheck": self._route53_health_check,
            STACK_REFERENCE: self._stack_reference,
        }

    def _private_key(self, args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
        """A key of its own: in a run from a previous one's state, a key the state does not hold
        (pulumi-tls generates every new key; the run's first indexes are the previous run's)."""
        index = self._keys.setdefault(args.name, self._first_key + len(self._keys))
        state = self.monitor.state.values() if self.monitor is not None else ()
        held = sorted(str(p.outputs.get("privateKeyPem", "")) for p in state if p.type == PRIVATE_KEY)
        after = f"-after-{digest(*held, length=16)}" if held else ""
        return args.name, tls_mock.private_key(args.name, args.inputs, stored_as=f"key-{index}{after}")

    def update_resource(self, args: MockResourceArgs, prior: Prior) -> tuple[str, dict[str, Any]] | None:
        """pulumi-tls updates in place only what changes nothing it made (earlyRenewalHours): its
        Update copies the plan into state (terraform-provider-tls internal/provider/common.go
        ``updatedUsingPlan``), so the key or certificate stays the one in state. Other providers
        compute their outputs anew (None)."""
        if args.typ.startswith(TLS):
            return prior.id, {**prior.outputs, **args.inputs}
        return None

    def replace_resource(self, args: MockResourceArgs, prior: Prior) -> tuple[str, dict[str, Any]]:
        """A replacement is a new resource: a new private key (a key of its own, never the one it
        replaces), a new random string; the rest as a create answers (certificates are minted anew
        with a fresh serial number every time)."""
        if args.typ == PRIVATE_KEY:
            stored = f"replaces-{digest(prior.outputs.get('privateKeyPem', ''), length=16)}"
            return args.name, tls_mock.private_key(args.name, args.inputs, stored_as=stored)
        if args.typ == RANDOM_STRING:
            return self._random_string(args, seed=str(prior.outputs.get("result", "")))
        return self.new_resource(args)

    def refused_write(
        self, type_: str, operation: str, prior: Prior | None, inputs: Mapping[str, Any], *, delete_first: bool, provider: str = ""
    ) -> str:
        """Route 53 refuses record sets that break its rules (``tests.harness.route53``), EC2 a
        group's second alike rule (``tests.harness.ec2_rules``); both start with what the state the
        run starts from holds."""
        if type_ == ec2_rules.RULE:
            if self._group_rules is None:
                state = self.monitor.state.values() if self.monitor is not None else ()
                self._group_rules = ec2_rules.SecurityGroupRules((p.provider, p.inputs) for p in state if p.type == ec2_rules.RULE)
            before = (prior.provider, prior.inputs) if prior else None
            return self._group_rules.write(operation, before, (provider, inputs), delete_first=delete_first)
        if type_ != route53.RECORD:
            return ""
        if self._record_sets is None:
            state = self.monitor.state.values() if self.monitor is not None else ()
            held = [route53.record_set(p.inputs) for p in state if p.type == route53.RECORD]
            self._record_sets = route53.HostedZones([*held, *self.foreign_record_sets])
        return self._record_sets.write(operation, prior.inputs if prior else None, inputs, delete_first=delete_first)

    def new_resource(self, args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
        handler = self._handlers.get(args.typ)
        if handler is not None:
            return handler(args)
        if args.typ.startswith("azure-native:") and args.custom:
            return self._arm(args)
        if args.typ.startswith("aws:") and args.custom:
            return self._aws(args)
        if args.typ.startswith("kubernetes:") and not args.typ.startswith(KUBERNETES_NOT_OBJECTS) and args.custom:
            return self._kubernetes_object(args)
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        if args.token == SECRET_VERSION:
            return self.secrets_manager.answer(args, self._provider_state(args.provider or "").get("region", ""))
        # The MockMonitor iterates the failures list, so "no failures" is [] (None crashes it).
        handler = self._invokes.get(args.token)
        return (handler(args) if handler else {}), []

    @property
    def _invokes(self) -> dict[str, Callable[[MockCallArgs], dict[str, Any]]]:
        return {
            "azure-native:containerservice:listManagedClusterAdminCredentials": self._aks_credentials,
            "azure-native:containerservice:listManagedClusterUserCredentials": self._aks_credentials,
            "aws:index/getAvailabilityZones:getAvailabilityZones": self._zones_answer,
            "aws:eks/getClusterAuth:getClusterAuth": lambda a: {
                "id": a.args["name"],
                "name": a.args["name"],
                "token": eks_token(a.args["name"]),
            },
            "azure-native:authorization:getClientConfig": lambda _: {
                "clientId": "cli",
                "objectId": DEPLOYER_OBJECT_ID,
                "subscriptionId": SUBSCRIPTION,
                "tenantId": TENANT,
            },
            "aws:index/getCallerIdentity:getCallerIdentity": lambda _: {
                "accountId": ACCOUNT,
                "arn": DEPLOYER_SESSION,
                "userId": "AROAEXAMPLE:ci",
                "id": ACCOUNT,
            },
            "aws:iam/getSessionContext:getSessionContext": self._session_context,
            "aws:eks/getAddonVersion:getAddonVersion": addon_version_answer,
            "aws:lb/getLoadBalancer:getLoadBalancer": self._load_balancer,
            "aws:route53/getZone:getZone": self.route53_zones.answer,
            "pulumi:pulumi:readStackOutputs": self._stack_outputs,
        }

    def _stack_outputs(self, args: MockCallArgs) -> dict[str, Any]:
        """The engine's stack-reference read: this stack's previous outputs, or another stack's."""
        name = str(args.args.get("name"))
        if name == self.stack_name:
            return {"name": self.stack_name, "outputs": dict(self.previous_outputs), "secretOutputNames": []}
        other = self._other_stack(name)
        return {"name": name, "outputs": dict(other.outputs), "secretOutputNames": sorted(other.secret)}

    def _other_stack(self, name: str) -> OtherStack:
        """Another stack of the backend; one that does not exist fails the read as the service does."""
        if name not in self.other_stacks:
            raise InvokeError(f'unknown stack "{name}"')
        if self.other_stacks[name].failure:
            raise InvokeError(self.other_stacks[name].failure)
        return self.other_stacks[name]

    def _stack_reference(self, args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
        """A ``StackReference``: the other stack's outputs, its secret ones named (the SDK keeps them secret)."""
        name = str(args.inputs.get("name") or args.resource_id)
        other = self._other_stack(name)
        return name, {"name": name, "outputs": dict(other.outputs), "secretOutputNames": sorted(other.secret)}

    def _zones_answer(self, args: MockCallArgs) -> dict[str, Any]:
        zones = self._available_zones(self._provider_state(args.provider or "").get("region", "eu-west-1"))
        return {"names": list(zones), "zoneIds": list(zones.values()), "state": "available"}

    @staticmethod
    def _session_context(args: MockCallArgs) -> dict[str, Any]:
        """The role behind the deployer's session; any other ARN is its own issuer (a user)."""
        issuer = DEPLOYER_ROLE if args.args["arn"] == DEPLOYER_SESSION else args.args["arn"]
        return {"arn": args.args["arn"], "issuerArn": issuer, "issuerName": issuer.rsplit("/", 1)[1], "id": args.args["arn"]}

    def _available_zones(self, region: str) -> Mapping[str, str]:
        """The region's available zones (name -> zone ID): the test's, else a, b and c. Names map to
        zone IDs differently in each account; this one maps b to az3."""
        if region in self._zones:
            return self._zones[region]
        short = "".join((part if i != 1 else part[0]) for i, part in enumerate(region.split("-")))
        return {f"{region}{z}": f"{short}-az{i}" for z, i in zip("abc", (1, 3, 4), strict=True)}

    # --- tls -----------------------------------------------------------------------------------
    @staticmethod
    def _cert(build: Callable[[dict[str, Any]], dict[str, Any]]) -> Handler:
        def handler(args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
            outputs = build(args.inputs)
            return tls_mock.serial_of(outputs), outputs

        return handler

    # --- azure-native --------------------------------------------------------------------------
    def _managed_cluster(self, args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
        inputs = args.inputs
        group = inputs.get("resourceGroupName", "unknown-rg")  # absent in preview while still unknown
        name = inputs.get("resourceName") or args.name
        location = inputs.get("location", "westeurope")
        arm_id = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{group}/providers/Microsoft.ContainerService/managedClusters/{name}"
        prefix = inputs.get("dnsPrefix") or name
        fqdn = f"{prefix}-{digest(arm_id)}.hcp.{location}.azmk8s.io"
        addons = {
            key: {**value, "identity": self._identity(f"{arm_id}/{key}")} if key == "azureKeyvaultSecretsProvider" else value
            for key, value in (inputs.get("addonProfiles") or {}).items()
        }
        outputs = {
            **inputs,
            "id": arm_id,
            "name": name,
            "fqdn": fqdn,
            "azurePortalFQDN": f"{prefix}-{digest(arm_id, 'portal')}.portal.hcp.{location}.azmk8s.io",
            "nodeResourceGroup": inputs.get("nodeResourceGroup") or f"MC_{group}_{name}_{location}",
            "provisioningState": "Succeeded",
            "powerState": {"code": "Running"},
            "addonProfiles": addons,
            "identity": {**(inputs.get("identity") or {}), "principalId": digest(arm_id, "principal", length=32), "tenantId": TENANT},
            "identityProfile": {"kubeletidentity": self._identity(f"{arm_id}/kubelet")},
            "oidcIssuerProfile": {
                **(inputs.get("oidcIssuerProfile") or {}),
                "issuerURL": f"https://{location}.oic.prod-aks.azure.com/{TENANT}/{digest(arm_id, 'oidc', length=32)}/",
            },
        }
        return arm_id, outputs

    @staticmethod
    def _identity(scope: str) -> dict[str, str]:
        return {
            "clientId": digest(scope, "client", length=32),
            "objectId": digest(scope, "object", length=32),
            "resourceId": f"{scope}/identity",
        }

    def _aks_credentials(self, args: MockCallArgs) -> dict[str, Any]:
        group, name = args.args["resourceGroupName"], args.args["resourceName"]
        arm_id = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{group}/providers/Microsoft.ContainerService/managedClusters/{name}"
        cluster = self._registered_state("azure-native:containerservice:ManagedCluster", lambda s: s.get("id") == arm_id)
        admin = args.token.endswith("AdminCredentials")
        user = f"clusterAdmin_{group}_{name}" if admin else f"clusterUser_{group}_{name}"
        # An Entra ID cluster's user kubeconfig in "exec" format runs kubelogin.
        kubelogin = {"exec": {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": "kubelogin", "args": ["get-token"]}}
        credential = kubelogin if args.args.get("format") == "exec" else {"token": digest(arm_id, user, length=64)}
        kubeconfig = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": name,
                    "cluster": {"server": f"https://{cluster['fqdn']}:443", "certificate-authority-data": b64(self._cluster_ca(arm_id))},
                }
            ],
            "users": [{"name": user, "user": credential}],
            "contexts": [{"name": name, "context": {"cluster": name, "user": user}}],
            "current-context": name,
        }
        kind = "clusterAdmin" if admin else "clusterUser"
        return {"kubeconfigs": [{"name": kind, "value": b64(yaml.safe_dump(kubeconfig))}]}

    # --- azure-native: names and ARM ids ----------------------------------------------------------
    def _arm(self, args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
        """Any azure-native resource: ``name`` from its ``<kind>Name`` input, ``id`` as ARM builds it."""
        inputs = args.inputs
        group = inputs.get("resourceGroupName", "unknown-rg")
        base = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{group}"
        kind = args.typ.split(":")[-1]
        if kind == "ResourceGroup":
            name, arm_id = group, base
        elif kind == "VirtualNetwork":
            name = inputs.get("virtualNetworkName", args.name)
            arm_id = f"{base}/providers/Microsoft.Network/virtualNetworks/{name}"
        elif kind in ("Subnet", "VirtualNetworkPeering"):
            child = "subnets" if kind == "Subnet" else "virtualNetworkPeerings"
            name = inputs.get("subnetName") or inputs.get("virtualNetworkPeeringName") or args.name
            arm_id = f"{base}/providers/Microsoft.Network/virtualNetworks/{inputs.get('virtualNetworkName')}/{child}/{name}"
        elif kind == "Vault":
            name = inputs.get("vaultName", args.name)
            arm_id = f"{base}/providers/Microsoft.KeyVault/vaults/{name}"
            inputs = {**inputs, "properties": {**(inputs.get("properties") or {}), "vaultUri": f"https://{name}.vault.azure.net/"}}
        elif kind == "Registry":
            # ACR's login server is the registry's name, lower case, under azurecr.io.
            name = inputs.get("registryName", args.name)
            arm_id = f"{base}/providers/Microsoft.ContainerRegistry/registries/{name}"
            inputs = {**inputs, "loginServer": f"{str(name).lower()}.azurecr.io"}
        elif kind == "Secret":
            name = inputs.get("secretName", args.name)
            arm_id = f"{base}/providers/Microsoft.KeyVault/vaults/{inputs.get('vaultName')}/secrets/{name}"
        elif kind == "UserAssignedIdentity":
            name = inputs.get("resourceName", args.name)
            arm_id = f"{base}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}"
            inputs = {**inputs, "clientId": digest(arm_id, "client", length=32), "principalId": digest(arm_id, "principal", length=32)}
            inputs["tenantId"] = TENANT
        elif kind == "PublicIPAddress":
            name = inputs.get("publicIpAddressName", args.name)
            arm_id = f"{base}/providers/Microsoft.Network/publicIPAddresses/{name}"
            inputs = {**inputs, "ipAddress": public_address("20", arm_id)}
        elif kind == "RoleAssignment":
            name = str(uuid.UUID(digest(args.name, str(inputs.get("scope")), length=32)))
            arm_id = f"{inputs.get('scope')}/providers/Microsoft.Authorization/roleAssignments/{name}"
        else:
            name, arm_id = args.name, f"{base}/providers/mock/{args.name}"
        return arm_id, {**inputs, "name": name, "id": arm_id}

    @staticmethod
    def _random_string(args: MockResourceArgs, seed: str = "") -> tuple[str, dict[str, Any]]:
        """pulumi-random picks once and keeps it in state; the mock picks the same for the same name,
        and a replacement (``seed``: the result it replaces) picks another."""
        length = int(args.inputs.get("length", 16))
        picked = digest(args.name, *([seed] if seed else []), length=length)
        result = "".join("abcdefghijklmnopqrstuvwxyz0123456789"[int(c, 16) % 36] for c in picked)
        return result, {**args.inputs, "result": result}

    # --- aws: ids, names and ARNs -------------------------------------------------------------------
    ID_PREFIXES = {  # noqa: RUF012 - a lookup table
        "Vpc": "vpc", "Subnet": "subnet", "InternetGateway": "igw", "NatGateway": "nat", "Eip": "eipalloc",
        "RouteTable": "rtb", "VpcPeeringConnection": "pcx", "VpcPeeringConnectionAccepter": "pcx",
        "SecurityGroupIngressRule": "sgr", "Route": "r",
    }  # fmt: skip

    def _aws(self, args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
        """Any aws resource: an id shaped like AWS's, a name (autonamed like Pulumi does), an ARN."""
        kind = args.typ.split(":")[-1]
        service = args.typ.split(":")[1].split("/")[0]
        region = self._provider_state(args.provider or "").get("region", "eu-west-1")
        name = args.inputs.get("name") or f"{args.name}-{digest(args.name, length=7)}"
        id_ = f"{self.ID_PREFIXES[kind]}-{digest(args.name, length=17)}" if kind in self.ID_PREFIXES else name
        if service == "iam":
            arn = f"arn:aws:iam::{ACCOUNT}:{kind[0].lower() + kind[1:]}/{name}"
        elif service == "secretsmanager":
            arn = f"arn:aws:secretsmanager:{region}:{ACCOUNT}:secret:{name}-{digest(name, length=6)}"
            id_ = arn
        else:
            arn = f"arn:aws:{service}:{region}:{ACCOUNT}:{kind.lower()}/{id_}"
        extra = {"publicIp": public_address("52", args.name)} if kind == "Eip" else {}
        return id_, {**args.inputs, "id": id_, "arn": arn, "name": name, **extra}

    # --- acm and route53 ---------------------------------------------------------------------------
    def _acm_certificate(self, args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
        """A DNS-validated certificate: its validation CNAME depends on the name and the account
        alone, the same in every region (ACM User Guide, DNS validation)."""
        region = self._provider_state(args.provider or "").get("region", "eu-west-1")
        domain = args.inputs["domainName"]
        # A new certificate (a replacement: a new name) has an ARN of its own.
        arn = f"arn:aws:acm:{region}:{ACCOUNT}:certificate/{uuid.UUID(digest(args.name, region, domain, length=32))}"
        option = {
            "domainName": domain,
            "resourceRecordName": f"_{digest(ACCOUNT, domain, length=32)}.{domain}.",
            "resourceRecordType": "CNAME",
            "resourceRecordValue": f"_{digest(domain, ACCOUNT, length=32)}.xlfgrmvvlj.acm-validations.aws.",
        }
        return arn, {**args.inputs, "arn": arn, "domainValidationOptions": [option], "status": "PENDING_VALIDATION"}

    def _acm_validation(self, args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
        """ACM issues the certificate once its validation record exists: the validation names it,
        or it waits until it times out. (In a preview the certificate's ARN is not known yet.)"""
        if not str(args.inputs.get("certificateArn", "")).startswith("arn:aws:acm:"):
            return args.name, dict(args.inputs)
        certificate = self._registered_state("aws:acm/certificate:Certificate", lambda s: s.get("arn") == args.inputs["certificateArn"])
        wanted = certificate["domainValidationOptions"][0]["resourceRecordName"].rstrip(".")
        fqdns = list(args.inputs.get("validationRecordFqdns") or [])
        if wanted not in fqdns:
            raise AssertionError(f"{args.name}: the certificate's validation record {wanted} is not among {fqdns}; ACM never issues it")
        return args.inputs["certificateArn"], dict(args.inputs)

    @staticmethod
    def _route53_record(args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
        inputs = args.inputs
        parts = [inputs["zoneId"], inputs["name"].rstrip("."), inputs["type"], inputs.get("setIdentifier") or ""]
        return "_".join(p for p in parts if p), {**inputs, "fqdn": inputs["name"].rstrip(".")}

    @staticmethod
    def _route53_health_check(args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
        """Route 53 refuses to health-check private addresses (CreateHealthCheck, IPAddress)."""
        address = args.inputs.get("ipAddress")
        if address and ipaddress.ip_address(address).is_private:
            raise AssertionError(f"{args.name}: Route 53 refuses to health-check the private address {address}")
        return str(uuid.UUID(digest(args.name, length=32))), dict(args.inputs)

    # Canonical hosted zones of Elastic Load Balancing by region, as AWS lists them (ALBs share the
    # Classic ELB's; NLBs have their own).
    LOAD_BALANCER_ZONES = {  # noqa: RUF012 - a lookup table
        ("application", "eu-west-1"): "Z32O12XQLNTSW2", ("network", "eu-west-1"): "Z2IFOLAFXWLO4F",
        ("application", "us-east-1"): "Z35SXDOTRQ7X7K", ("network", "us-east-1"): "Z26RNL4JYFTOTI",
    }  # fmt: skip

    def _load_balancer(self, args: MockCallArgs) -> dict[str, Any]:
        """A load balancer the controller made, by name, in the provider's region only: an ALB for
        an Ingress, an NLB for a Service (ALB hosts read ``.<region>.elb.``, NLB hosts ``.elb.<region>.``)."""
        assert self.monitor is not None
        name, region = args.args["name"], self._provider_state(args.provider or "").get("region", "")
        for registration in self.monitor.resources.values():
            status = registration.state.get("status")
            balancer = status.get("loadBalancer") if isinstance(status, dict) else None
            for entry in (balancer or {}).get("ingress") or []:
                host = str(entry.get("hostname") or "")
                if host.split(".", 1)[0].rsplit("-", 1)[0] != name:
                    continue
                labels = host.split(".")
                kind, host_region = ("network", labels[2]) if labels[1] == "elb" else ("application", labels[1])
                if host_region != region:
                    break
                return {"name": name, "dnsName": host, "loadBalancerType": kind, "zoneId": self.LOAD_BALANCER_ZONES[(kind, region)]}
        raise AssertionError(f"no load balancer named {name} in {region or 'the provider region'}")

    # --- eks -------------------------------------------------------------------------------------
    def _eks_cluster(self, args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
        assert self.monitor is not None
        region = self._provider_state(args.provider or "").get("region", "eu-west-1")
        # pulumi-eks names the EKS cluster after its `name` input, else autonames it.
        name = args.inputs.get("name") or f"{args.name}-eksCluster-{digest(args.name, length=7)}"
        arn = f"arn:aws:eks:{region}:{ACCOUNT}:cluster/{name}"
        endpoint = f"https://{digest(arn, length=32).upper()}.gr7.{region}.eks.amazonaws.com"
        issuer = f"https://oidc.eks.{region}.amazonaws.com/id/{digest(arn, 'oidc', length=32).upper()}"
        ca = self._cluster_ca(arn)
        cluster_sg = f"sg-{digest(arn, 'cluster-sg', length=17)}"
        state = {
            "arn": arn,
            "name": name,
            "endpoint": endpoint,
            "certificateAuthority": {"data": b64(ca)},
            "identities": [{"oidcs": [{"issuer": issuer}]}],
            "vpcConfig": {"clusterSecurityGroupId": cluster_sg, "subnetIds": args.inputs.get("privateSubnetIds") or []},
            "version": args.inputs.get("version") or "1.33",
            "accessConfig": {"authenticationMode": args.inputs.get("authenticationMode") or "API"},
        }
        oidc_arn = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{issuer.removeprefix('https://')}"
        urn = self.monitor.make_urn("", args.typ, args.name)
        monitor = self.monitor

        def child(type_: str, suffix: str, id_: str, child_state: dict[str, Any]) -> dict[str, Any]:
            return monitor.add_child(urn, type_, f"{args.name}-{suffix}", id_, child_state)

        cluster_ref = child("aws:eks/cluster:Cluster", "eksCluster", name, state)
        role_arn = f"arn:aws:iam::{ACCOUNT}:role/{args.name}-eksRole-{digest(arn, 'role', length=7)}"
        node_role_arn = f"arn:aws:iam::{ACCOUNT}:role/{args.name}-instanceRole-{digest(arn, 'node', length=7)}"
        kubeconfig = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "kubernetes", "cluster": {"server": endpoint, "certificate-authority-data": b64(ca)}}],
            "users": [
                {
                    "name": "aws",
                    "user": {
                        "exec": {
                            "apiVersion": "client.authentication.k8s.io/v1beta1",
                            "command": "aws",
                            "args": ["eks", "get-token", "--cluster-name", name],
                        }
                    },
                }
            ],
            "contexts": [{"name": "aws", "context": {"cluster": "kubernetes", "user": "aws"}}],
            "current-context": "aws",
        }
        outputs = {
            **args.inputs,
            "eksCluster": cluster_ref,
            # CoreData's resource-typed fields must be references: the SDK refuses plain dicts there.
            "core": {
                "cluster": cluster_ref,
                "clusterIamRole": child("aws:iam/role:Role", "eksRole", role_arn.rsplit("/", 1)[1], {"arn": role_arn}),
                "endpoint": endpoint,
                "instanceRoles": [child("aws:iam/role:Role", "instanceRole", node_role_arn.rsplit("/", 1)[1], {"arn": node_role_arn})],
                "nodeGroupOptions": {},
                "provider": child(
                    "pulumi:providers:kubernetes", "provider", digest(arn, "k8s", length=36), {"kubeconfig": json.dumps(kubeconfig)}
                ),
                "subnetIds": [*(args.inputs.get("privateSubnetIds") or []), *(args.inputs.get("publicSubnetIds") or [])],
                "vpcId": args.inputs.get("vpcId") or "vpc-mock",
                "oidcProvider": child(
                    "aws:iam/openIdConnectProvider:OpenIdConnectProvider", "oidcProvider", oidc_arn, {"arn": oidc_arn, "url": issuer}
                ),
                "clusterSecurityGroup": child(
                    "aws:ec2/securityGroup:SecurityGroup", "eksClusterSecurityGroup", cluster_sg, {"id": cluster_sg}
                ),
            },
            "clusterSecurityGroupId": cluster_sg,
            "nodeSecurityGroupId": f"sg-{digest(arn, 'node-sg', length=17)}",
            "oidcProviderArn": oidc_arn,
            "oidcProviderUrl": issuer.removeprefix("https://"),
            "oidcIssuer": issuer.removeprefix("https://"),
            "kubeconfig": kubeconfig,
            "kubeconfigJson": json.dumps(kubeconfig),
        }
        return name, outputs

    # --- kubernetes ------------------------------------------------------------------------------
    def _secret(self, args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
        inputs = dict(args.inputs)
        metadata = inputs.get("metadata") or {}
        namespace = metadata.get("namespace", "default")
        name = metadata.get("name") or args.name
        if inputs.get("type") == "kubernetes.io/service-account-token":
            account = (metadata.get("annotations") or {}).get("kubernetes.io/service-account.name", "default")
            ca = self._kubeconfig_ca(args.provider or "")
            inputs["data"] = {
                "token": b64(_service_account_jwt(namespace, account, name, args.provider or "")),
                "ca.crt": b64(ca),
                "namespace": b64(namespace),
            }
        return f"{namespace}/{name}", {**inputs, "metadata": {**metadata, "name": name, "namespace": namespace}}

    def _kubernetes_object(self, args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
        """Any other Kubernetes object; its id is ``namespace/name`` (or ``name``), as the provider's."""
        metadata = args.inputs.get("metadata") or {}
        name = metadata.get("name") or args.name
        return (f"{metadata['namespace']}/{name}" if metadata.get("namespace") else name), dict(args.inputs)

    def _service(self, args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
        """A Service. Read back (``Service.get``) it is a LoadBalancer with its address assigned, as
        Helm waited for before the read: on EKS an NLB hostname, on AKS a public IP, else a MetalLB IP.
        (The monitor refuses reads of Services nothing registered makes: ``engine.load_balancer_made_by``.)"""
        if not args.resource_id:
            return f"{args.name}-id", dict(args.inputs)
        namespace, _, name = args.resource_id.partition("/")
        kubeconfig = str(self._provider_state(args.provider or "").get("kubeconfig") or "")
        # Not the stack's name (the provider's URN starts urn:pulumi:<stack>::): the same cluster's
        # Service gets the same address whichever stack reads it (fleet mode's member stacks).
        scope = f"{(args.provider or '').split('::', 1)[-1]}/{args.resource_id}"
        if region := eks_region(kubeconfig):
            # The controller names an NLB k8s-<namespace>-<service>-<hash> (each cut to 8, 8, 10).
            nlb = f"k8s-{namespace.replace('-', '')[:8]}-{name.replace('-', '')[:8]}-{digest(scope, length=10)}"
            ingress = {"hostname": f"{nlb}-{digest(scope, 'id', length=16)}.elb.{region}.amazonaws.com"}
        elif "azmk8s.io" in kubeconfig:
            ingress = {"ip": public_address("20", scope)}
        else:
            ingress = {"ip": f"172.18.255.{200 + int(digest(scope, length=2), 16) % 50}"}
        state = {
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"type": "LoadBalancer"},
            "status": {"loadBalancer": {"ingress": [ingress]}},
        }
        return args.resource_id, state

    def _ingress(self, args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
        """An Ingress as pulumi-kubernetes reports it once its await ended: with the load balancer's
        host name in its status; for class ``alb`` on EKS an ALB's, ``<name>-<id>.<region>.elb.amazonaws.com``
        (an NLB's reads ``.elb.<region>.``)."""
        resource_id, state = self._kubernetes_object(args)
        region = eks_region(str(self._provider_state(args.provider or "").get("kubeconfig") or ""))
        if (args.inputs.get("spec") or {}).get("ingressClassName") != "alb" or not region:
            return resource_id, state
        # Not the stack's name, as for a Service's load balancer (``_service``).
        scope = f"{(args.provider or '').split('::', 1)[-1]}/{resource_id}"
        hostname = f"k8s-istioing-istioing-{digest(scope, length=10)}-{int(digest(scope, 'id', length=8), 16)}.{region}.elb.amazonaws.com"
        return resource_id, {**state, "status": {"loadBalancer": {"ingress": [{"hostname": hostname}]}}}

    @staticmethod
    def _helm_release(args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
        """A Release as the provider reports it once Helm installed it: id ``namespace/name`` and
        ``status`` (name, namespace, revision, status, chart and versions)."""
        inputs = args.inputs
        name, namespace = inputs.get("name") or args.name, inputs.get("namespace") or "default"
        status = {
            "name": name,
            "namespace": namespace,
            "revision": 1,
            "status": "deployed",
            "chart": inputs.get("chart", ""),
            "version": inputs.get("version", ""),
            "appVersion": inputs.get("version", ""),
        }
        return f"{namespace}/{name}", {**inputs, "status": status}

    def _kubeconfig_ca(self, provider_ref: str) -> str:
        kubeconfig = self._provider_state(provider_ref).get("kubeconfig")
        parsed = yaml.safe_load(kubeconfig) if isinstance(kubeconfig, str) else None
        clusters = parsed.get("clusters") if isinstance(parsed, dict) else None
        data = clusters[0].get("cluster", {}).get("certificate-authority-data") if clusters else None
        if data:
            return base64.b64decode(data).decode()
        # A context-only provider (an existing cluster): the CA is that cluster's own.
        return self._cluster_ca(provider_ref.rsplit("::", 1)[0] or "default")

    # --- helpers ---------------------------------------------------------------------------------
    @staticmethod
    def _cluster_ca(scope: str) -> str:
        return _cluster_ca_pem(scope)

    def _provider_state(self, provider_ref: str) -> dict[str, Any]:
        if not provider_ref or self.monitor is None:
            return {}
        registration = self.monitor.resources.get(provider_ref.rsplit("::", 1)[0])
        return unwrap_secrets(dict(registration.state)) if registration else {}

    def _registered_state(self, type_: str, match: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        assert self.monitor is not None
        for registration in self.monitor.registered:
            if registration.type == type_ and match(registration.outputs):
                return registration.outputs
        raise KeyError(f"no {type_} registered that matches")


def eks_region(kubeconfig: str) -> str:
    """The region of an EKS cluster's kubeconfig (its server is ``https://<id>.<zone>.<region>.eks.amazonaws.com``);
    "" for other clusters."""
    found = re.search(r"\.([a-z0-9-]+)\.eks\.amazonaws\.com", kubeconfig)
    return found[1] if found else ""


def eks_token(cluster: str) -> str:
    """A token shaped like the one EKS accepts: ``k8s-aws-v1.`` + a base64url presigned STS URL."""
    url = f"https://sts.eu-west-1.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Signature={digest(cluster, length=64)}"
    return "k8s-aws-v1." + base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")


def _service_account_jwt(namespace: str, account: str, secret: str, scope: str) -> str:
    """A legacy service-account token as the token controller issues one into the Secret ``secret``:
    its claims name the Secret (so each Secret holds a token of its own, valid until the Secret is
    deleted; kubernetes pkg/serviceaccount/legacy.go ``LegacyClaims``)."""

    def part(obj: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj, separators=(",", ":")).encode()).decode().rstrip("=")

    header = part({"alg": "RS256", "kid": digest(scope, "kid", length=43)})
    claims = part(
        {
            "iss": "kubernetes/serviceaccount",
            "kubernetes.io/serviceaccount/namespace": namespace,
            "kubernetes.io/serviceaccount/secret.name": secret,
            "kubernetes.io/serviceaccount/service-account.name": account,
            "sub": f"system:serviceaccount:{namespace}:{account}",
        }
    )
    return f"{header}.{claims}.{digest(scope, namespace, account, secret, length=64)}"


def token_secret_name(kubeconfig: str) -> str:
    """The Secret the bearer token of a remote secret's ``kubeconfig`` was issued into (its claims
    name it): the token is valid while that Secret exists."""
    token = yaml.safe_load(kubeconfig)["users"][0]["user"]["token"]
    claims = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))["kubernetes.io/serviceaccount/secret.name"]


@functools.cache
def _cluster_ca_pem(scope: str) -> str:
    """A real self-signed Kubernetes cluster CA (CN=kubernetes), one per cluster and test session,
    as a real cluster keeps its CA across deployments."""
    outputs = tls_mock.self_signed_cert(
        {
            "privateKeyPem": tls_mock.private_key(f"cluster-ca/{scope}", {"rsaBits": 2048})["privateKeyPem"],
            "subject": {"commonName": "kubernetes"},
            "isCaCertificate": True,
            "allowedUses": ["cert_signing", "digital_signature", "key_encipherment"],
            "validityPeriodHours": 87600,
        }
    )
    return str(outputs["certPem"])
