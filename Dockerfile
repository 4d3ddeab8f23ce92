# syntax=docker/dockerfile:1
#
# avp-py sidecar image for Argo CD's repo-server (CMP v2): argocd-cmp-server runs the commands
# of /home/argocd/cmp-server/config/plugin.yaml, which call helm / kustomize and avp-py. The
# entrypoint `avp-py sidecar --` runs it beside the warm render server `avp-py serve`
# (docs/argocd.md, "The render server in the sidecar").
#
#   docker build -t avp-py:dev .
#
# Runs as uid 999 on a read-only root filesystem: everything that writes (helm's cache/config,
# the CMP work directory, Python) is pointed at /tmp, which the Deployment mounts as an
# emptyDir. argocd-cmp-server itself is not in the image: Argo CD's `copyutil` init container
# copies it into the shared /var/run/argocd volume.

ARG PYTHON_IMAGE=python:3.12.11-slim-bookworm

# --- helm and kustomize, downloaded at pinned versions and checked against pinned sha256 sums --
FROM ${PYTHON_IMAGE} AS tools
ARG TARGETARCH
# Checksums: https://get.helm.sh/helm-v<version>-linux-<arch>.tar.gz.sha256sum (also listed in
# the helm release notes) and the kustomize release's checksums.txt. Bump version and sums
# together.
ARG HELM_VERSION=3.18.4
ARG HELM_SHA256_AMD64=f8180838c23d7c7d797b208861fecb591d9ce1690d8704ed1e4cb8e2add966c1
ARG HELM_SHA256_ARM64=c0a45e67eef0c7416a8a8c9e9d5d2d30d70e4f4d3f7bea5de28241fffa8f3b89
ARG KUSTOMIZE_VERSION=5.7.0
ARG KUSTOMIZE_SHA256_AMD64=0d98f06d6d2c2c0ff8923cc136a517af74aaa187f1b9f3e17ff370d0625ede84
ARG KUSTOMIZE_SHA256_ARM64=744bb1bc1854b6634dea9eaf6db2f401a734ed25d6837baa6f91157d79c27d5e
RUN set -eu; \
    arch="${TARGETARCH:-amd64}"; \
    case "$arch" in \
      amd64) helm_sha256="$HELM_SHA256_AMD64"; kustomize_sha256="$KUSTOMIZE_SHA256_AMD64" ;; \
      arm64) helm_sha256="$HELM_SHA256_ARM64"; kustomize_sha256="$KUSTOMIZE_SHA256_ARM64" ;; \
      *) echo "unsupported architecture: $arch" >&2; exit 1 ;; \
    esac; \
    fetch() { python -c 'import sys, urllib.request; urllib.request.urlretrieve(sys.argv[1], sys.argv[2])' "$1" "$2"; }; \
    mkdir -p /out /tmp/helm; \
    fetch "https://get.helm.sh/helm-v${HELM_VERSION}-linux-${arch}.tar.gz" /tmp/helm.tar.gz; \
    printf '%s  %s\n' "$helm_sha256" /tmp/helm.tar.gz > /tmp/helm.sha256; \
    sha256sum -c /tmp/helm.sha256; \
    tar -xzf /tmp/helm.tar.gz -C /tmp/helm; \
    install -m 0755 "/tmp/helm/linux-${arch}/helm" /out/helm; \
    fetch "https://github.com/kubernetes-sigs/kustomize/releases/download/kustomize%2Fv${KUSTOMIZE_VERSION}/kustomize_v${KUSTOMIZE_VERSION}_linux_${arch}.tar.gz" /tmp/kustomize.tar.gz; \
    printf '%s  %s\n' "$kustomize_sha256" /tmp/kustomize.tar.gz > /tmp/kustomize.sha256; \
    sha256sum -c /tmp/kustomize.sha256; \
    tar -xzf /tmp/kustomize.tar.gz -C /out kustomize; \
    chmod 0755 /out/kustomize; \
    /out/helm version --short; \
    /out/kustomize version

# --- avp-py, installed from this source tree into a virtualenv --------------------------------
FROM ${PYTHON_IMAGE} AS build
WORKDIR /src
COPY . .
RUN python -m venv /opt/avp-py \
    && /opt/avp-py/bin/pip install --no-cache-dir --disable-pip-version-check . \
    && /opt/avp-py/bin/avp-py --help >/dev/null

# --- runtime ------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="avp-py" \
      org.opencontainers.image.description="Argo CD CMP sidecar: fills <placeholders> in manifests from Azure Key Vault (argocd-vault-plugin drop-in)" \
      org.opencontainers.image.licenses="Apache-2.0"

# uid/gid 999 as Argo CD requires for CMP sidecars; its home is the writable /tmp.
RUN groupadd --system --gid 999 argocd \
    && useradd --system --uid 999 --gid 999 --home-dir /tmp --no-create-home \
       --shell /usr/sbin/nologin argocd

ENV PATH=/opt/avp-py/bin:$PATH \
    HOME=/tmp \
    TMPDIR=/tmp \
    XDG_CACHE_HOME=/tmp/.cache \
    XDG_CONFIG_HOME=/tmp/.config \
    XDG_DATA_HOME=/tmp/.local/share \
    HELM_CACHE_HOME=/tmp/helm/cache \
    HELM_CONFIG_HOME=/tmp/helm/config \
    HELM_DATA_HOME=/tmp/helm/data \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1

COPY --from=tools /out/helm /out/kustomize /usr/local/bin/
COPY --from=build /opt/avp-py /opt/avp-py
COPY plugin.yaml /home/argocd/cmp-server/config/plugin.yaml

USER 999
WORKDIR /tmp
ENTRYPOINT ["avp-py", "sidecar", "--", "/var/run/argocd/argocd-cmp-server"]
