"""Fleet mode's driver: a mesh stack and one member stack per cluster, run by the Automation API.

``python -m fleet up --mesh <stack>`` runs the mesh stack, then every member stack side by side
(bounded), then once more every member that missed a peer; ``destroy`` the reverse; ``add`` and
``remove`` one cluster. ``fleet.plan`` decides what runs, ``fleet.driver`` runs it against a
``fleet.workspace.Workspace`` (local, or Pulumi Deployments with ``--remote``).
"""
