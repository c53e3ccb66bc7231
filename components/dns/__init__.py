"""One DNS name for the whole mesh (``ingressDns``), in Route 53."""
