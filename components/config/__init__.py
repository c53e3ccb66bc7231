"""The config layer: field declarations, parsing, validation and the typed ``MeshSpec``."""
