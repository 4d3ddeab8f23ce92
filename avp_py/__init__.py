"""avp-py: fill ``<placeholders>`` in Kubernetes manifests from a secrets backend.

A drop-in replacement for argocd-vault-plugin, focused on Azure Key Vault. The library
entry point is :func:`avp_py.render.render`; the command line lives in :mod:`avp_py.cli`.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
