"""Small Kubernetes helpers shared by the platforms and the mesh: Helm releases, kubeconfigs."""
