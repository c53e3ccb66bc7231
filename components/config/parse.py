"""Stack config -> ``MeshSpec``, or one ``ConfigError`` listing every problem.

The mesh-wide fields and each cluster's common fields are read here; each platform reads its own
keys and its clusters' fields. A value that fails to parse is always a problem. The rules that
compare clusters then run on whatever parsed, and the run fails if anything did not, so a bad
cluster can never silently drop out of the mesh.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from ipaddress import IPv4Network
from typing import Any, cast

from cryptography import x509

from components.config import declarations as d
from components.config.fields import Field, Reader, path_key
from components.config.istio import check_istiod_values
from components.config.mesh_names import plan_mesh_names
from components.config.model import CaRotation, CaSpec, ClusterSpec, DnsService, IngressDns, MeshSpec, RotationStage, ServerHeader
from components.config.names import NamePlan
from components.config.platform import Entry, ParsedMesh, PlatformConfig
from components.config.problems import Owner, Problems
from components.config.provided import (
    CERT_PEM,
    CHAIN_PEM,
    KEY_PEM,
    ProvidedIntermediate,
    ProvidedRoot,
    check_provided_intermediate,
    check_provided_root,
    stored_intermediate,
)
from components.config.rules import check_mesh
from components.config.stores import ROUTE53_ZONES, Readers, SecretReader, SecretStore, StoredAt, StoreReadError
from components.istio.owned import PROGRAM_OWNED_ISTIOD_VALUES

CONFIG_WHAT = "the istio-multicluster config"


def project_fields(platforms: Sequence[PlatformConfig]) -> list[Field[Any]]:
    """Every project config key: the mesh's, ``clusters``, then each platform's."""
    names = [p.name for p in platforms]
    return [*d.MESH_FIELDS, d.clusters_field(names), *(f for p in platforms for f in p.mesh_fields)]


def parse_mesh_spec(
    raw: Mapping[str, object], platforms: Sequence[PlatformConfig], readers: Readers | None = None, *, plan_names: bool = True
) -> MeshSpec:
    """Parse and validate the project's config (keys without the project prefix). ``readers`` read
    the platforms' secret stores by field (``secretsManager``: ...) where the config names a secret
    in one (default none: every such reference is refused as unreadable). ``plan_names``: check
    that every resource the mesh makes gets a name of its own (default yes; a fleet member parses
    its mesh stack's config, whose stack checked it, and would plan every pair of clusters' names).

    Raises ``ConfigError`` listing every problem found; returns a fully valid ``MeshSpec``.
    """
    problems = Problems()
    root = Reader(raw, project_fields(platforms), CONFIG_WHAT, problems, top_level=True)
    mesh_id, revisions = root.value(d.MESH_ID), root.value(d.ISTIO_REVISIONS)
    _replaced_keys(root)
    topology = root.value(d.TOPOLOGY)
    dataplane = root.value(d.DATAPLANE)
    gateway_api = root.value(d.GATEWAY_API_RELEASE)
    sidecar_gateway = root.value(d.AMBIENT_SIDECAR_GATEWAY)
    access_log, ingress, verify = root.value(d.ACCESS_LOG), root.value(d.INGRESS_GATEWAY), root.value(d.VERIFY)
    server_header = _server_header(root, ingress)
    ingress_dns = _ingress_dns(root, ingress)
    verify_image = root.value(d.VERIFY_IMAGE)
    token_generation = root.value(d.READER_TOKEN_GENERATION)
    fleet_mesh = root.value(d.FLEET_MESH)
    owned = owned_istiod_values(platforms)
    mesh_values = _istiod_values(root, d.ISTIOD_VALUES, owned)
    ca = _ca(root)
    operator_cidrs = _operator_cidrs(root)
    settings = {p.name: s for p in platforms if (s := p.parse_settings(root)) is not None}
    clusters_field = d.clusters_field([p.name for p in platforms])
    entries = root.objects(clusters_field)
    names: dict[int, str] = {}
    clouds: dict[int, str] = {}
    clusters = [c for entry in entries if (c := _cluster(entry.index, entry, platforms, names, clouds, owned)) is not None]
    if ca is not None:
        stores = [p.secret_store for p in platforms if p.secret_store is not None]
        ca = provided_intermediates(root, ca, [c.value.name for c in clusters], stores, readers or {})
    root.reject_unknown()
    listed = raw.get("clusters")
    count = len(listed) if isinstance(listed, list) else 0
    _unused_platform_settings(root, platforms, clouds, count)
    parsed = ParsedMesh(
        topology=topology,
        clusters=tuple(clusters),
        names=names,
        listed=count,
        settings=settings,
        revisions=revisions,
        operator_cidrs=operator_cidrs,
        clouds=frozenset(clouds.values()),
        dataplane=dataplane,
        gateway_api_release=gateway_api,
        ambient_sidecar_gateway=sidecar_gateway if root.given(d.AMBIENT_SIDECAR_GATEWAY) else None,
        ingress_gateway=ingress,
        ingress_dns=ingress_dns,
        ingress_dns_given=root.given(d.INGRESS_DNS),
    )
    if listed is None or isinstance(listed, list):
        check_mesh(parsed, platforms, problems)
    if len(clusters) != parsed.listed and not problems:
        problems.add("clusters", "internal", "a cluster could not be read and no reason was recorded; please report this as a bug")
    _name_in_zone(ingress_dns, (readers or {}).get(ROUTE53_ZONES), problems)
    problems.raise_if_any()
    assert mesh_id and revisions and topology and access_log is not None and ingress is not None and verify is not None
    assert mesh_values is not None and ca is not None and verify_image and dataplane and sidecar_gateway is not None
    assert token_generation is not None and fleet_mesh is not None
    spec = MeshSpec(
        mesh_id=mesh_id,
        revisions=revisions,
        topology=topology,
        access_log=access_log,
        ingress_gateway=ingress,
        verify=verify,
        verify_image=verify_image,
        istiod_values=mesh_values,
        ca=ca,
        clusters=tuple(c.value for c in clusters),
        platform_settings=settings,
        warnings=tuple(str(w) for w in problems.warnings),
        operator_cidrs=operator_cidrs or (),
        dataplane=dataplane,
        gateway_api_release=gateway_api,
        ambient_sidecar_gateway=sidecar_gateway,
        reader_token_generation=token_generation,
        ingress_server_header=server_header,
        ingress_dns=ingress_dns,
        fleet_mesh=fleet_mesh,
    )
    if plan_names:
        resource_names(spec, platforms).check(problems)
        problems.raise_if_any()
    return spec


def resource_names(spec: MeshSpec, platforms: Sequence[PlatformConfig]) -> NamePlan:
    """Every resource name the program registers for ``spec``: the mesh's, then each platform's."""
    plan = NamePlan()
    plan_mesh_names(spec, plan)
    for platform in platforms:
        platform.plan_names(spec, plan)
    return plan


def _replaced_keys(root: Reader) -> None:
    """``istioVersion`` and ``istioRevision`` are refused with the ``istioRevisions`` value that does the same."""
    version = root.raw.get("istioVersion")
    for key in d.REPLACED_KEYS:
        if root.raw.get(key) is None:
            continue
        equivalent = f'{{default: "{version}"}}' if isinstance(version, str) and version else '{default: "<x.y.z>"}'
        root.refuse_replaced(
            key,
            f"is replaced by istioRevisions, which names each revision after its release; set istioRevisions: {equivalent} "
            "and remove istioVersion and istioRevision",
        )


def owned_istiod_values(platforms: Sequence[PlatformConfig]) -> dict[tuple[str, ...], str]:
    """Every istiod value path the program sets: the mesh layer's and each platform's."""
    return {**PROGRAM_OWNED_ISTIOD_VALUES, **{path: why for p in platforms for path, why in p.owned_istiod_values.items()}}


def _istiod_values(reader: Reader, field: Field[dict[str, Any]], owned: Mapping[tuple[str, ...], str]) -> dict[str, Any] | None:
    values = reader.value(field)
    if values is None:
        return None
    return values if check_istiod_values(reader, field.key, values, owned) else None


def _ca(root: Reader) -> CaSpec | None:
    ca_root = root.value(d.CA_ROOT)
    rotation = _ca_rotation(root, ca_root)
    root_hours = root.value(d.CA_ROOT_VALIDITY_HOURS)
    inter_hours = root.value(d.CA_INTERMEDIATE_VALIDITY_HOURS)
    root_early = root.value(d.CA_ROOT_EARLY_RENEWAL_HOURS)
    inter_early = root.value(d.CA_INTERMEDIATE_EARLY_RENEWAL_HOURS)
    if root_hours is None or inter_hours is None or root_early is None or inter_early is None:
        return None
    if inter_hours > root_hours:
        root.fail(
            d.CA_INTERMEDIATE_VALIDITY_HOURS.key,
            "ca-lifetime",
            f"{inter_hours} outlives the root ({root_hours}); an intermediate cannot be valid longer than its root",
        )
    if root_early >= root_hours:
        root.fail(d.CA_ROOT_EARLY_RENEWAL_HOURS.key, "ca-lifetime", f"{root_early} must be less than caRootValidityHours ({root_hours})")
    if inter_early >= inter_hours:
        root.fail(
            d.CA_INTERMEDIATE_EARLY_RENEWAL_HOURS.key,
            "ca-lifetime",
            f"{inter_early} must be less than caIntermediateValidityHours ({inter_hours})",
        )
    if ca_root is None:
        return None
    spec = CaSpec(root_hours, inter_hours, root_early, inter_early, ca_root, rotation)
    provided = _provided_roots(root, spec)
    return None if provided is None else CaSpec(root_hours, inter_hours, root_early, inter_early, ca_root, rotation, provided)


def _provided_roots(root: Reader, spec: CaSpec) -> dict[str, ProvidedRoot] | None:
    """The roots the config provides, checked; ``None`` when one is refused."""
    raw = root.value(d.CA_PROVIDED_ROOTS) or {}
    key = d.CA_PROVIDED_ROOTS.key
    found: dict[str, ProvidedRoot] = {}
    failed = False
    now = datetime.datetime.now(datetime.UTC)
    for name, entry in raw.items():
        step = path_key(name)
        at = f"{key}{step}" if step.startswith("[") else f"{key}.{step}"
        if name not in spec.roots:
            root.fail(at, "ca-provided-unused", f"is not a root of the mesh ({', '.join(spec.roots)}); remove it")
            failed = True
            continue
        if not _shaped(entry, {CERT_PEM}, {KEY_PEM}):
            root.fail(at, "ca-provided-shape", f"must be {{{CERT_PEM}: <PEM>, {KEY_PEM}: <PEM>}} ({KEY_PEM} only to sign), text")
            failed = True
            continue
        provided, problems = check_provided_root(entry[CERT_PEM], entry.get(KEY_PEM), now, spec.intermediate_validity_hours)
        for sub, code, message in problems:
            root.fail(f"{at}.{sub}", code, message)
        if provided is None:
            failed = True
        else:
            found[name] = provided
    return None if failed else found


def _shaped(entry: object, required: AbstractSet[str], optional: AbstractSet[str] = frozenset()) -> bool:
    """Whether ``entry`` is an object of text fields: every ``required`` one, and of ``optional`` any."""
    return isinstance(entry, dict) and required <= set(entry) <= required | optional and all(isinstance(v, str) for v in entry.values())


def _at(key: str, name: str) -> str:
    step = path_key(name)
    return f"{key}{step}" if step.startswith("[") else f"{key}.{step}"


def provided_intermediates(
    root: Reader, ca: CaSpec, clusters: Sequence[str], stores: Sequence[SecretStore], readers: Readers
) -> CaSpec | None:
    """``ca`` with the intermediates the config provides, checked (``None`` when refused): every
    cluster's or none, each given or read from a platform's secret store (``stores``, read with
    ``readers``); then no root is generated, and the signing root's certificate signed each."""
    raw = root.value(d.CA_PROVIDED_INTERMEDIATES) or {}
    key = d.CA_PROVIDED_INTERMEDIATES.key
    if not raw:
        unsigned = ca.provided.get(ca.signer)
        if unsigned is not None and unsigned.key_pem is None:
            root.fail(
                f"{_at(d.CA_PROVIDED_ROOTS.key, ca.signer)}.{KEY_PEM}",
                "ca-provided-key",
                f"is required: root {ca.signer} signs the intermediates (or provide them: {key})",
            )
            return None
        return ca
    if not _intermediates_fit(root, ca, raw, clusters):
        return None
    signer = x509.load_pem_x509_certificate(ca.provided[ca.signer].cert_pem.encode())
    now = datetime.datetime.now(datetime.UTC)
    found: dict[str, ProvidedIntermediate] = {}
    for name in clusters:
        at = _at(key, name)
        given = _given_intermediate(root, raw[name], at, stores, readers)
        if given is None:
            continue
        entry, stored_at = given
        provided, problems = check_provided_intermediate(name, entry, signer, now, ca.intermediate_early_renewal_hours, stored_at)
        for sub, code, message in problems:
            if stored_at is None:
                root.fail(f"{at}.{sub}", code, message)
            else:
                root.fail(f"{at}.{stored_at.field}", code, f"the stored {sub} {message}")
        if provided is not None:
            found[name] = provided
    if len(found) != len(clusters):
        return None
    return dataclasses.replace(ca, intermediates=found)


def _intermediates_fit(root: Reader, ca: CaSpec, raw: Mapping[str, object], clusters: Sequence[str]) -> bool:
    """Whether provided intermediates fit the mesh: one per cluster, every root provided, and no root
    key, which would sign nothing. Each misfit is reported."""
    key = d.CA_PROVIDED_INTERMEDIATES.key
    problems_before = len(root.problems)
    for name in [c for c in clusters if c not in raw]:
        root.fail(_at(key, name), "ca-provided-missing", f"is missing: give every cluster's intermediate, or none ({name} has none)")
    for name in [n for n in raw if n not in clusters]:
        root.fail(_at(key, name), "ca-provided-unused", f"names no cluster of the mesh ({', '.join(clusters)}); remove it")
    for name in [r for r in ca.roots if r not in ca.provided]:
        root.fail(d.CA_PROVIDED_ROOTS.key, "ca-provided-missing", f"has no root {name}: with provided intermediates every root is provided")
    for name in [r for r, given in ca.provided.items() if given.key_pem is not None]:
        root.fail(
            f"{_at(d.CA_PROVIDED_ROOTS.key, name)}.{KEY_PEM}",
            "ca-provided-unused",
            "signs nothing: the intermediates are provided; remove it and keep the root's key offline",
        )
    return len(root.problems) == problems_before


def _given_intermediate(
    root: Reader, entry: object, at: str, stores: Sequence[SecretStore], readers: Readers
) -> tuple[dict[str, str], StoredAt | None] | None:
    """A cluster's intermediate as ``{certPem, keyPem, chainPem}`` and where it was read from (``None``:
    given inline); ``None`` when the entry is refused (the problem is reported)."""
    if _shaped(entry, {CERT_PEM, KEY_PEM, CHAIN_PEM}):
        return cast(dict[str, str], entry), None
    by_field = {s.field: s for s in stores}
    named = [f for f in entry if f in by_field] if isinstance(entry, dict) else []
    if not isinstance(entry, dict) or len(entry) != 1 or len(named) != 1:
        forms = " or ".join(f"{{{s.field}: {s.example}}}" for s in stores)
        root.fail(at, "ca-provided-shape", f"must be {{{CERT_PEM}, {KEY_PEM}, {CHAIN_PEM}}}, PEM text each, or {forms}")
        return None
    store = by_field[named[0]]
    reference, field_at = entry[store.field], f"{at}.{store.field}"
    problem = store.reference_problem(reference) if isinstance(reference, str) else "must be text"
    if problem is not None:
        root.fail(field_at, "ca-provided-store", f"{problem}; for example {store.example}")
        return None
    reader = readers.get(store.field)
    try:
        if reader is None:
            raise StoreReadError(f"cannot be read: this run has no {store.field} reader")
        text = reader(reference)
    except StoreReadError as error:
        root.fail(field_at, "ca-provided-store", str(error))
        return None
    found, why = stored_intermediate(text)
    if found is None:
        root.fail(field_at, "ca-provided-store", f"{why}; store that")
        return None
    return found, StoredAt(store.field, reference)


def _ingress_dns(root: Reader, ingress: bool | None) -> IngressDns | None:
    """``ingressDns``: a service, a name (and for Route 53 its zone) and a routing; only with the
    ingress gateways it names."""
    entry = root.object(d.INGRESS_DNS)
    if entry is None:
        return None
    service, zone = entry.value(d.DNS_SERVICE), entry.value(d.DNS_ZONE_ID)
    name, routing = entry.value(d.DNS_NAME), entry.value(d.DNS_ROUTING)
    entry.reject_unknown()
    if service is not None:
        _dns_service_fields(entry, service, zone, name)
    if entry.failed or service is None or name is None or routing is None:
        return None
    if ingress is False:
        unused = "names the clusters' ingresses, which this mesh does not run; set ingressGateway: true, or remove it"
        root.fail(d.INGRESS_DNS.key, "unused", unused)
        return None
    return IngressDns(service, zone, name, routing)


def _name_in_zone(dns: IngressDns | None, zones: SecretReader | None, problems: Problems) -> None:
    """The Route 53 zone, read once the rest of the config holds (no cloud call for a config that
    is refused anyway; the program always has the reader): public, and holding the name, which
    Route 53 would otherwise refuse only when the ``up`` creates the records, after the clusters."""
    if dns is None or dns.zone_id is None or zones is None or problems:
        return
    key = d.INGRESS_DNS.key
    try:
        domain = zones(dns.zone_id)
    except StoreReadError as error:
        problems.add(f"{key}.{d.DNS_ZONE_ID.key}", "zone-unreadable", str(error))
        return
    if dns.name != domain and not dns.name.endswith(f".{domain}"):
        message = f"{dns.name} is not inside zone {dns.zone_id} ({domain}); name one that ends in .{domain}"
        problems.add(f"{key}.{d.DNS_NAME.key}", "outside-zone", message)


def _dns_service_fields(entry: Reader, service: DnsService, zone: str | None, name: str | None) -> None:
    """Route 53 needs its zone and a name inside it; Traffic Manager takes no zone and one label.
    (A missing zone is reported beside a missing name; a bad name beside a good zone.)"""
    if service is DnsService.ROUTE53 and zone is None and not entry.problems.about(entry.at(d.DNS_ZONE_ID.key)):
        entry.fail(d.DNS_ZONE_ID.key, "required", "is required with service route53; give the ID of the public hosted zone that holds name")
    elif name is None:
        return
    elif service is DnsService.ROUTE53 and "." not in name:
        entry.fail(d.DNS_NAME.key, "dns-name", f"{name} is one label; with route53 give the full name in the zone, e.g. {name}.example.com")
    elif service is DnsService.TRAFFIC_MANAGER and zone is not None:
        entry.fail(d.DNS_ZONE_ID.key, "unused", "names a Route 53 zone, which trafficManager does not use; remove it")
    elif service is DnsService.TRAFFIC_MANAGER and "." in name:
        entry.fail(
            d.DNS_NAME.key,
            "dns-label",
            f"{name} is more than one label; trafficManager takes the profile's relative name, e.g. istio-mesh-prod",
        )


def _server_header(root: Reader, ingress: bool | None) -> ServerHeader | None:
    """``ingressServerHeader``: a value, or disabled: true; only with the ingress gateways it acts on."""
    entry = root.object(d.INGRESS_SERVER_HEADER)
    if entry is None:
        return None
    before = len(root.problems)
    value, disabled = entry.value(d.SERVER_HEADER_VALUE), entry.value(d.SERVER_HEADER_DISABLED)
    entry.reject_unknown()
    key = d.INGRESS_SERVER_HEADER.key
    if len(root.problems) > before:
        return None
    if ingress is False:
        root.fail(key, "unused", "acts only on the ingress gateways; set ingressGateway: true, or remove it")
    elif (value is None) == (disabled is None) or disabled is False:
        root.fail(key, "server-header", "must be {value: <text>} to replace Envoy's istio-envoy, or {disabled: true} to send none")
    else:
        return ServerHeader(value, bool(disabled))
    return None


def _ca_rotation(root: Reader, ca_root: str | None) -> CaRotation | None:
    entry = root.object(d.CA_ROTATION)
    if entry is None:
        return None
    new_root = entry.value(d.CA_ROTATION_NEW_ROOT)
    stage = entry.value(d.CA_ROTATION_STAGE)
    wait_hours = entry.value(d.CA_ROTATION_WAIT_HOURS)
    entry.reject_unknown()
    if new_root is not None and new_root == ca_root:
        entry.fail(d.CA_ROTATION_NEW_ROOT.key, "ca-rotation", f"is caRoot ({ca_root}); a rotation introduces a root of another name")
        return None
    if new_root is None or stage is None or wait_hours is None:
        return None
    return CaRotation(new_root, RotationStage(stage), wait_hours)


def _operator_cidrs(root: Reader) -> tuple[IPv4Network, ...] | None:
    """``None`` when unset (Pulumi.yaml declares [] for it, which the CLI passes). A value that failed
    to parse is ``()``: given, and already a problem."""
    cidrs = root.value(d.OPERATOR_CIDRS)
    return cidrs if cidrs is not None or not root.has(d.OPERATOR_CIDRS) else ()


def _unused_platform_settings(root: Reader, platforms: Sequence[PlatformConfig], clouds: Mapping[int, str], listed: int) -> None:
    """A platform's project keys act only on its clusters: in a mesh without one they would do nothing
    (``caDelivery: keyVault`` would leave every CA key in a Kubernetes Secret), so they are refused.
    Pulumi passes Pulumi.yaml's declared defaults, so a value equal to the default is unset
    (``Reader.given``). Decided only once every cluster's platform is known."""
    if not listed or len(clouds) != listed:
        return
    present = set(clouds.values())
    for platform in platforms:
        for field in platform.mesh_fields if platform.name not in present else ():
            if root.given(field) and not root.problems.about(field.key):
                root.fail(
                    field.key,
                    "unused",
                    f"is only used with {platform.name} clusters (cloud: {platform.name}), and this mesh has none; remove it",
                )


def _cluster(
    index: int,
    reader: Reader,
    platforms: Sequence[PlatformConfig],
    names: dict[int, str],
    clouds: dict[int, str],
    owned: Mapping[tuple[str, ...], str],
) -> Entry[ClusterSpec] | None:
    name = reader.value(d.CLUSTER_NAME)
    if name is not None:
        reader.owner = Owner("cluster", name)
        names[index] = name
    cloud = reader.value(d.cloud_field([p.name for p in platforms]))
    if cloud is not None:
        clouds[index] = cloud
    network = reader.value(d.NETWORK)
    role = reader.value(d.ROLE)
    primary = reader.value(d.PRIMARY)
    platform = next((p for p in platforms if p.name == cloud), None)
    part = None
    if platform is not None:
        reader.fields += platform.cluster_fields
        reader.what = f"an {platform.name} cluster" if platform.name[0] in "aeiou" else f"a {platform.name} cluster"
        part = platform.parse_cluster(reader, name)
        reader.reject_unknown()
    values = _istiod_values(reader, d.CLUSTER_ISTIOD_VALUES, owned) if reader.has(d.CLUSTER_ISTIOD_VALUES) else {}
    if reader.failed or name is None or network is None or role is None or part is None or values is None:
        return None
    region, spec = part
    cluster = ClusterSpec(name=name, region=region, network=network, role=role, primary=primary, platform_spec=spec, istiod_values=values)
    return Entry(index, cluster, Owner("cluster", name))
