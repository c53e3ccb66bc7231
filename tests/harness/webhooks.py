"""Admission webhooks that refuse objects while their backing pods do not serve (failurePolicy: Fail).

Pulumi does not retry a create refused by a webhook (pulumi-kubernetes retries only "not found"
and "no matching kind"), so a first ``pulumi up`` fails if the program creates such an object
before the webhook can answer. Each rule below names the objects a webhook matches on a cluster,
and what the object must wait for (or what setting turns the refusal off).

- MetalLB (charts 0.14-0.16): every ``metallb.io`` object is validated with
  ``crds.validationFailurePolicy`` (default Fail) by the controller, which may not serve yet when
  Helm's wait ends (metallb/metallb#1610, #3133). Nothing the program can depend on proves it
  serves, so the policy must be ``Ignore``.
- AWS Load Balancer Controller: its Service mutator (``enableServiceMutatorWebhook``, default on,
  failurePolicy Fail) matches every Service but the chart's own and has no endpoints until the
  controller's pods run (kubernetes-sigs/aws-load-balancer-controller#4140): every Service, and
  every chart that makes one, must wait for the controller's release, or the mutator be off. Its
  Ingress validator (``vingress.elbv2.k8s.aws``, failurePolicy Fail, chart 1.13.0
  templates/webhook.yaml) matches every Ingress, and cannot be turned off: every Ingress must wait
  for the controller's release.
- Istio on a remote cluster: pods in injection-enabled namespaces go through the remote's
  injection webhook, whose CA bundle the primary's istiod patches once it holds the remote's
  secret; injected workloads must wait for that secret. Its Istio config goes through the
  remote's validating webhook (failurePolicy Fail, the mesh root as CA bundle), which calls the
  primary's istiod through the primary's east-west gateway: it must wait for the primary's
  ``istiod-gateway`` and the routes of the default revision.

One rule is about a webhook that is missing rather than refusing: a pod created before its
revision tag's injection webhook exists starts without a sidecar, and nothing retries it. Another
is about a missing type: the API server refuses an object whose CRD is not there, and
pulumi-kubernetes retries "no matching kind" only five times within seconds (provider/pkg/await/
await.go), so a custom resource must wait for whatever installs its CRDs (here the Gateway API's,
from their release's manifest).
"""

from __future__ import annotations

from collections.abc import Callable

from tests.harness.monitor import Registered
from tests.harness.program import StackRun

Rule = Callable[[StackRun], list[str]]


def refused_at_first_up(run: StackRun) -> list[str]:
    """Every object a webhook would refuse during a first ``pulumi up``, with the reason."""
    return [problem for rule in RULES for problem in rule(run)]


def _values(release: Registered) -> dict[str, object]:
    return dict(release.inputs.get("values") or {})


def metallb_pools_before_the_validator_serves(run: StackRun) -> list[str]:
    refused = []
    for obj in run.resources:
        if not obj.type.startswith("kubernetes:metallb.io/"):
            continue
        releases = [
            r for r in run.of_type("kubernetes:helm.sh/v3:Release") if r.inputs.get("chart") == "metallb" and r.provider == obj.provider
        ]
        policy = [(_values(r).get("crds") or {}).get("validationFailurePolicy", "Fail") for r in releases]  # type: ignore[union-attr]
        if policy != ["Ignore"]:
            refused.append(f"{obj.name}: MetalLB's validating webhook (failurePolicy {policy or ['Fail']}) may not serve yet")
    return refused


def remote_clusters(run: StackRun) -> dict[str, str]:
    """Provider reference -> remote cluster name, from istio-system's controlPlaneClusters annotation."""
    remotes = {}
    for namespace in run.of_type("kubernetes:core/v1:Namespace"):
        metadata = namespace.inputs.get("metadata") or {}
        if metadata.get("name") == "istio-system" and "topology.istio.io/controlPlaneClusters" in (metadata.get("annotations") or {}):
            remotes[namespace.provider] = namespace.name.removesuffix("-istio-istio-system")
    return remotes


def namespace_tags(run: StackRun, provider: str) -> dict[str, str]:
    """Injected namespace -> the revision tag that injects it, on one cluster."""
    tags = {}
    for namespace in run.of_type("kubernetes:core/v1:Namespace"):
        metadata = namespace.inputs.get("metadata") or {}
        labels = metadata.get("labels") or {}
        if namespace.provider != provider:
            continue
        if labels.get("istio-injection") == "enabled":
            tags[metadata["name"]] = "default"
        elif "istio.io/rev" in labels:
            tags[metadata["name"]] = labels["istio.io/rev"]
    return tags


def injected_workloads(run: StackRun, provider: str) -> list[tuple[Registered, str]]:
    """Deployments and Jobs in injected namespaces, and gateway releases (whose pods ask for the
    default tag), on one cluster, each with the tag that injects it."""
    tags = namespace_tags(run, provider)
    workloads = []
    for workload in [*run.of_type("kubernetes:apps/v1:Deployment"), *run.of_type("kubernetes:batch/v1:Job")]:
        tag = tags.get(str((workload.inputs.get("metadata") or {}).get("namespace")))
        if workload.provider == provider and tag is not None:
            workloads.append((workload, tag))
    gateways = [r for r in run.of_type("kubernetes:helm.sh/v3:Release") if r.provider == provider and r.inputs.get("chart") == "gateway"]
    return workloads + [(g, "default") for g in gateways]


def injected_before_their_tags_webhook(run: StackRun) -> list[str]:
    """Pods created before their tag's injection webhook exists are not refused: they start
    without a sidecar, outside the mesh (gateway pods, whose image is "auto", never start)."""
    missing = []
    for provider in {r.provider for r in run.resources if r.type.startswith("kubernetes:")}:
        webhooks = {
            (w.inputs.get("metadata") or {}).get("name"): w.name
            for w in run.of_type("kubernetes:admissionregistration.k8s.io/v1:MutatingWebhookConfiguration")
            if w.provider == provider
        }
        for workload, tag in injected_workloads(run, provider):
            webhook = webhooks.get(f"istio-revision-tag-{tag}")
            if webhook is None or not run.needs(workload, webhook):
                missing.append(f"{workload.name}: its pods may start before tag {tag}'s injection webhook exists")
    return missing


def remote_injection_before_the_primary_can_serve_it(run: StackRun) -> list[str]:
    refused = []
    for provider, remote in remote_clusters(run).items():
        secrets = [
            s.name
            for s in run.of_type("kubernetes:core/v1:Secret")
            if ((s.inputs.get("metadata") or {}).get("annotations") or {}).get("networking.istio.io/cluster") == remote
        ]
        for workload, _ in injected_workloads(run, provider):
            if not any(run.needs(workload, secret) for secret in secrets):
                refused.append(
                    f"{workload.name}: the injection webhook of remote {remote} has no CA bundle until its primary holds {secrets}"
                )
    return refused


def services_before_the_load_balancer_controller_serves(run: StackRun) -> list[str]:
    refused = []
    controllers = [r for r in run.of_type("kubernetes:helm.sh/v3:Release") if r.inputs.get("chart") == "aws-load-balancer-controller"]
    for controller in controllers:
        if _values(controller).get("enableServiceMutatorWebhook") is False:
            continue
        makers = [
            r
            for r in run.resources
            if r.provider == controller.provider
            and r is not controller
            and r.type in {"kubernetes:core/v1:Service", "kubernetes:helm.sh/v3:Release"}
        ]
        for maker in makers:
            if not run.needs(maker, controller):
                refused.append(f"{maker.name}: the load balancer controller's Service mutator has no endpoints yet")
    return refused


def ingresses_before_the_load_balancer_controller_serves(run: StackRun) -> list[str]:
    refused = []
    for controller in (r for r in run.of_type("kubernetes:helm.sh/v3:Release") if r.inputs.get("chart") == "aws-load-balancer-controller"):
        for ingress in (r for r in run.of_type("kubernetes:networking.k8s.io/v1:Ingress") if r.provider == controller.provider):
            if not run.needs(ingress, controller):
                refused.append(f"{ingress.name}: the load balancer controller's Ingress validator has no endpoints yet")
    return refused


def remote_istio_config_before_the_primarys_routes(run: StackRun) -> list[str]:
    refused = []
    for provider, remote in remote_clusters(run).items():
        configs = [r for r in run.resources if r.provider == provider and r.type.startswith(ISTIO_CONFIG)]
        if not configs:
            continue
        primary = _primary_of(run, provider)
        routes = _routes_to_default_istiod(run, primary)
        for config in configs:
            missing = [route for route in routes if not run.needs(config, route)]
            if missing:
                refused.append(f"{config.name}: remote {remote}'s validating webhook calls istiod on {primary} before {missing} exist")
    return refused


ISTIO_CONFIG = "kubernetes:networking.istio.io/"


def _primary_of(run: StackRun, provider: str) -> str:
    """The primary named in a remote's istio-system annotation."""
    for namespace in run.of_type("kubernetes:core/v1:Namespace"):
        metadata = namespace.inputs.get("metadata") or {}
        if namespace.provider == provider and metadata.get("name") == "istio-system":
            return str((metadata.get("annotations") or {})["topology.istio.io/controlPlaneClusters"])
    raise AssertionError(f"no istio-system namespace on {provider}")


def _routes_to_default_istiod(run: StackRun, primary: str) -> list[str]:
    """The primary's istiod-gateway and its routes to the default revision's istiod (by SNI, and
    by URL where remotes dial it by host name): what a remote's webhook call passes through."""
    revision = (run.named(f"{primary}-istio-tag-default").inputs["metadata"].get("labels") or {})["istio.io/rev"]
    required = {f"{primary}-istio-istiod-gateway", f"{primary}-istio-istiod-vs-{revision}"}
    present = {r.name for r in run.resources if r.type.startswith(ISTIO_CONFIG)}
    # A rename must not make the rule pass by finding nothing to require.
    assert required <= present, f"the routes a remote's webhook calls pass through are not registered: {sorted(required - present)}"
    by_url = f"{primary}-istio-istiod-webhook-vs"  # only where remotes dial the primary by host name
    return sorted(required | ({by_url} & present))


CRD_MANIFESTS = {"kubernetes:gateway.networking.k8s.io/": "/kubernetes-sigs/gateway-api/releases/"}
CONFIG_FILE = "kubernetes:yaml/v2:ConfigFile"


def custom_resources_before_their_crds(run: StackRun) -> list[str]:
    refused = []
    for prefix, manifest in CRD_MANIFESTS.items():
        installers = [r for r in run.of_type(CONFIG_FILE) if manifest in str(r.inputs.get("file"))]
        for obj in (r for r in run.resources if r.type.startswith(prefix)):
            mine = [i for i in installers if i.providers.get("kubernetes") == obj.provider]
            if not any(run.needs(obj, i) for i in mine):
                refused.append(f"{obj.name}: its CRD may not exist yet (nothing it waits for installs it on its cluster)")
    return refused


RULES: list[Rule] = [
    custom_resources_before_their_crds,
    metallb_pools_before_the_validator_serves,
    services_before_the_load_balancer_controller_serves,
    ingresses_before_the_load_balancer_controller_serves,
    remote_injection_before_the_primary_can_serve_it,
    remote_istio_config_before_the_primarys_routes,
    injected_before_their_tags_webhook,
]
