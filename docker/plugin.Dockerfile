# syntax=docker/dockerfile:1
# The InterLink Kubernetes plugin server (@interlink-k8s/server).
#
#   docker build -f docker/plugin.Dockerfile -t interlink-k8s/interlink-kubernetes-plugin:0.1.0 .
#
# Build context: the repository root (docker/plugin.Dockerfile.dockerignore
# keeps node_modules, dist and caches out of it).
#
# Base images are pinned by TAG only: their digests could not be resolved on
# the machine this was written on (no access to Docker Hub / gcr.io). Pin them
# by digest before publishing, e.g.
#   docker buildx imagetools inspect docker.io/library/node:24.21.0-bookworm-slim
#   docker buildx imagetools inspect gcr.io/distroless/cc-debian12:nonroot
# and append "@sha256:<digest>" to the two ARGs below.
ARG NODE_IMAGE=docker.io/library/node:24.21.0-bookworm-slim
# glibc + libstdc++ + CA certificates + /etc/passwd with nonroot (65532), no shell.
ARG RUNTIME_IMAGE=gcr.io/distroless/cc-debian12:nonroot

# ---- build: install, compile, deploy the server with production deps only ----
FROM ${NODE_IMAGE} AS build
ENV PNPM_HOME=/pnpm \
    PATH=/pnpm:$PATH \
    CI=true \
    NX_DAEMON=false \
    NX_NO_CLOUD=true
RUN corepack enable && corepack prepare pnpm@10.34.8 --activate
WORKDIR /src
# Dependencies first (cached while the lockfile does not change).
COPY pnpm-lock.yaml pnpm-workspace.yaml ./
RUN --mount=type=cache,id=pnpm-store,target=/pnpm/store pnpm fetch
COPY . .
RUN --mount=type=cache,id=pnpm-store,target=/pnpm/store pnpm install --frozen-lockfile --offline
RUN pnpm exec nx run @interlink-k8s/server:build --outputStyle=static
# --legacy: the workspace does not set inject-workspace-packages (pnpm 10);
# workspace dependencies (contract, protocol, remote-k8s, tunnel) are copied
# with their dist.
RUN --mount=type=cache,id=pnpm-store,target=/pnpm/store \
    pnpm --filter @interlink-k8s/server deploy --prod --legacy /out

# ---- the official Node binary, nothing else of that image ----
FROM ${NODE_IMAGE} AS node

# ---- runtime ----
FROM ${RUNTIME_IMAGE}
COPY --from=node /usr/local/bin/node /usr/local/bin/node
# Owned by root, not writable by the runtime user; nothing is written at run
# time (logs go to stdout), so readOnlyRootFilesystem: true works.
COPY --from=build /out /app
WORKDIR /app
ENV NODE_ENV=production \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
LABEL org.opencontainers.image.title="interlink-kubernetes-plugin" \
      org.opencontainers.image.version="0.1.0" \
      org.opencontainers.image.licenses="Apache-2.0"
USER 65532:65532
EXPOSE 4000
# No HEALTHCHECK: Kubernetes probes /healthz and /readyz (see the chart).
ENTRYPOINT ["node", "--max-semi-space-size=4", "dist/main.js"]
