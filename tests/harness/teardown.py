"""What ``pulumi destroy`` must keep running until a cloud load balancer is released.

The AWS Load Balancer Controller puts its finalizer (``service.k8s.aws/resources``) on every
LoadBalancer Service it provisions an NLB for and removes it once the NLB and its security group
are deleted. If Pulumi deletes the controller first, the Service hangs, and the NLB, its security
group and ENIs stay behind and stop the VPC's deletion. So whatever Pulumi awaits the Service's
deletion through must be deleted before the controller, i.e. depend on it:

- a Helm release (the gateway chart): pulumi-kubernetes uninstalls with ``wait`` unless
  ``skipAwait`` (provider/pkg/provider/helm_release.go), which waits for the Service to be gone;
- a Service of type LoadBalancer that the program owns: its own deletion is awaited;
- an ``Ingress`` of class ``alb``, whose ALB the controller deletes before it removes its finalizer
  (``ingress.k8s.aws/resources``): its own deletion is awaited;
- a Gateway API ``Gateway`` that istiod deploys: its Service is owned without
  ``blockOwnerDeletion`` (Istio's gateway templates), so the Gateway's deletion returns before the
  Service is gone; only the Namespace holding it, whose deletion Pulumi awaits until every object
  in it is gone, waits for the release.

And the controller must reach the AWS APIs while it releases them: from private subnets without VPC
endpoints its calls leave through the NAT, which needs the public route table's route to the
internet gateway and the public subnets' associations with that table. Those must outlive every
load balancer's awaiter and the controller itself.
"""

from __future__ import annotations

from tests.harness.engine import HELM_RELEASE, load_balancer_made_by
from tests.harness.monitor import Registered
from tests.harness.program import StackRun

SERVICE = "kubernetes:core/v1:Service"
INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"
NAMESPACE = "kubernetes:core/v1:Namespace"
INTERNET_GATEWAY = "aws:ec2/internetGateway:InternetGateway"
ROUTE_TABLE = "aws:ec2/routeTable:RouteTable"
ASSOCIATION = "aws:ec2/routeTableAssociation:RouteTableAssociation"


def _metadata(resource: Registered) -> dict[str, object]:
    return dict(resource.inputs.get("metadata") or {})


def _awaiter(run: StackRun, maker: Registered) -> Registered | None:
    """The resource whose deletion Pulumi awaits until ``maker``'s load balancer is released."""
    if maker.type in {HELM_RELEASE, SERVICE, INGRESS}:
        return maker
    namespace = _metadata(maker).get("namespace")
    holders = [n for n in run.of_type(NAMESPACE) if n.provider == maker.provider and _metadata(n).get("name") == namespace]
    return holders[0] if holders else None


def _makes_load_balancer(resource: Registered) -> bool:
    if resource.type == SERVICE:
        return (resource.inputs.get("spec") or {}).get("type") == "LoadBalancer"
    if resource.type == INGRESS:
        return (resource.inputs.get("spec") or {}).get("ingressClassName") == "alb"
    return load_balancer_made_by(resource.type, resource.inputs, resource.id) is not None


def load_balancers_left_at_destroy(run: StackRun) -> list[str]:
    """Every load balancer whose release ``pulumi destroy`` may not wait for before it deletes the
    controller that releases it, with the reason."""
    leaks = []
    for controller in (r for r in run.of_type(HELM_RELEASE) if r.inputs.get("chart") == "aws-load-balancer-controller"):
        for maker in (r for r in run.resources if r.provider == controller.provider and _makes_load_balancer(r)):
            awaiter = _awaiter(run, maker)
            if awaiter is None:
                leaks.append(f"{maker.name}: nothing Pulumi manages awaits its Service's deletion")
            elif not run.needs(awaiter, controller):
                leaks.append(f"{maker.name}: {awaiter.name} may be deleted after {controller.name}, which releases its load balancer")
    return leaks


def internet_route(run: StackRun, vpc_id: str) -> list[Registered]:
    """The VPC's way out: its internet gateways, the route tables routing to them, and those
    tables' subnet associations."""
    gateways = [r for r in run.of_type(INTERNET_GATEWAY) if r.inputs.get("vpcId") == vpc_id]
    gateway_ids = {g.id for g in gateways}
    tables = [
        t
        for t in run.of_type(ROUTE_TABLE)
        if t.inputs.get("vpcId") == vpc_id and any(route.get("gatewayId") in gateway_ids for route in t.inputs.get("routes") or [])
    ]
    table_ids = {t.id for t in tables}
    return [*gateways, *tables, *(a for a in run.of_type(ASSOCIATION) if a.inputs.get("routeTableId") in table_ids)]


def routes_cut_before_release(run: StackRun) -> list[str]:
    """Every part of a VPC's internet route that ``pulumi destroy`` may delete while a load
    balancer's awaiter or the controller that releases it still runs; empty when none."""
    cut = []
    for controller in (r for r in run.of_type(HELM_RELEASE) if r.inputs.get("chart") == "aws-load-balancer-controller"):
        route = internet_route(run, controller.inputs["values"]["vpcId"])
        if not route:
            cut.append(f"{controller.name}: no internet route found in its VPC")
        makers = (r for r in run.resources if r.provider == controller.provider and _makes_load_balancer(r))
        users = [controller, *(a for a in map(lambda m: _awaiter(run, m), makers) if a is not None)]
        cut += [f"{part.name} may be deleted before {user.name}" for user in users for part in route if not run.needs(user, part)]
    return cut
