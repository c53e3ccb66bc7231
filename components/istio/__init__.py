"""What the program knows of Istio, below both the mesh and the platforms: its facts (``facts``),
the istiod values the program owns (``owned``), and the pure builders of every value tree and
config spec the program gives Istio (``values``, ``ambient``)."""
