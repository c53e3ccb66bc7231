"""Fleet mode: a mesh stack (``fleetMesh: true``) and a member stack per cluster (``fleetMember``).

The mesh stack validates the membership once and holds the CA; each member stack parses the mesh's
exported config as its own and builds its cluster's Istio and the remote secrets its istiod needs,
reading its peers' links from their stacks. ``python -m fleet`` runs them (see ``fleet``).
"""
