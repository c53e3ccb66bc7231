"""Fleet mode: a mesh stack (``fleetMesh: true``) and a member stack per cluster (``fleetMember``).

The mesh stack validates the membership once and holds the CA (and issues a root rotation's
stages); each member stack parses the mesh's exported config as its own and builds its cluster's
Istio, the remote secrets its istiod needs and its MeshCheck, reading its peers' links from their
stacks. ``python -m fleet`` runs them (see ``fleet``).
"""
