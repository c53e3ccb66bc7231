"""The mesh CA: its root and each cluster's intermediate, below both the mesh and the platforms (which copy it)."""
