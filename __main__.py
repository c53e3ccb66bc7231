"""istio-multicluster: wiring only. Stack config -> MeshSpec -> components -> stack outputs."""

import pulumi

from components.mesh.ca import MeshCA, MeshCAArgs
from components.spec import load_mesh_spec
from components.summary import mesh_summary

spec = load_mesh_spec(pulumi.Config())

ca = MeshCA("mesh-ca", MeshCAArgs(cluster_names=[c.name for c in spec.clusters], lifetimes=spec.ca))

pulumi.export("mesh", mesh_summary(spec))
pulumi.export("rootCertPem", ca.root_cert_pem)
