"""istio-multicluster: wiring only. Stack config -> MeshSpec -> components -> stack outputs."""

import pulumi

from components.clusters import build_clusters, store_ca_copies, store_ca_copies_aws
from components.mesh.ca import MeshCA, MeshCAArgs
from components.mesh.check import MeshCheck, MeshCheckArgs
from components.mesh.istio import install_istio
from components.mesh.link import MeshLink, MeshLinkArgs
from components.spec import load_mesh_spec
from components.summary import mesh_summary

spec = load_mesh_spec(pulumi.Config())

ca = MeshCA("mesh-ca", MeshCAArgs(cluster_names=[c.name for c in spec.clusters], lifetimes=spec.ca))
built = build_clusters(spec)
vault = store_ca_copies(spec, ca, built)
secrets = store_ca_copies_aws(spec, ca, built)

pulumi.export("mesh", mesh_summary(spec))
pulumi.export("rootCertPem", ca.root_cert_pem)
if built.aks:
    pulumi.export("aks", {name: aks.outputs() for name, aks in built.aks.items()})
if vault is not None:
    pulumi.export("keyVault", {"name": vault.vault_name, "uri": vault.vault_uri})
if built.eks and built.aws_network is not None:
    pulumi.export("eks", {name: eks.outputs() for name, eks in built.eks.items()})
    pulumi.export("vpcIds", {name: vpc.vpc.id for name, vpc in built.aws_network.vpcs.items()})
if secrets is not None:
    pulumi.export("caSecretArns", secrets.arns)

if len(built.handles) == len(spec.clusters):
    releases = install_istio(spec, built.handles, ca.clusters)
    link = MeshLink("mesh-link", MeshLinkArgs(spec, built.handles, releases))
    pulumi.export("eastWestGateways", {name: r.eastwest_address for name, r in releases.items() if r.eastwest_address is not None})
    pulumi.export("remoteSecrets", link.remote_secrets)
    if spec.verify:
        MeshCheck("mesh-check", MeshCheckArgs(spec, built.handles, releases, link))
