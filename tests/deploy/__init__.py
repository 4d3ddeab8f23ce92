"""Argo CD integration: CMP plugin configs, sidecar image, kustomize overlay, CI workflows."""
