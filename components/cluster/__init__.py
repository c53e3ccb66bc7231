"""What the mesh layer knows of a cluster (``ClusterHandle``), below both the mesh and the platforms."""
