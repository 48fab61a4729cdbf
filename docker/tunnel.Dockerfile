# syntax=docker/dockerfile:1
# The reverse-SSH TCP tunnel (@interlink-k8s/tunnel): gateway and bastion in
# one image. Default command: the gateway; the bastion runs with the args
# ["dist/bin/bastion.js"] (Kubernetes: `args: [dist/bin/bastion.js]`).
#
#   docker build -f docker/tunnel.Dockerfile -t interlink-k8s/tcp-tunnel:0.1.0 .
#
# Build context: the repository root (docker/tunnel.Dockerfile.dockerignore
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

# ---- build: install, compile, deploy the tunnel with production deps only ----
FROM ${NODE_IMAGE} AS build
ENV PNPM_HOME=/pnpm \
    PATH=/pnpm:$PATH \
    CI=true \
    NX_DAEMON=false \
    NX_NO_CLOUD=true
RUN corepack enable && corepack prepare pnpm@10.34.8 --activate
# ssh2's optional native crypto binding (about twice the throughput) is built
# by node-gyp at install time, against this Node's own headers.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
ENV npm_config_nodedir=/usr/local
WORKDIR /src
# Dependencies first (cached while the lockfile does not change).
COPY pnpm-lock.yaml pnpm-workspace.yaml ./
RUN --mount=type=cache,id=pnpm-store,target=/pnpm/store pnpm fetch
COPY . .
RUN --mount=type=cache,id=pnpm-store,target=/pnpm/store pnpm install --frozen-lockfile --offline
RUN pnpm exec nx run @interlink-k8s/tunnel:build --outputStyle=static
# --legacy: the workspace does not set inject-workspace-packages (pnpm 10).
RUN --mount=type=cache,id=pnpm-store,target=/pnpm/store \
    pnpm --filter @interlink-k8s/tunnel deploy --prod --legacy /out

# ---- the official Node binary, nothing else of that image ----
FROM ${NODE_IMAGE} AS node

# ---- runtime ----
FROM ${RUNTIME_IMAGE}
COPY --from=node /usr/local/bin/node /usr/local/bin/node
# Owned by root, not writable by the runtime user; nothing is written at run
# time (logs go to stdout), so readOnlyRootFilesystem: true works.
COPY --from=build /out /app
WORKDIR /app
# MALLOC_ARENA_MAX=1: one glibc malloc arena rather than one per thread that
# allocates (less memory for the gateway; see docs/benchmarks.md, "Memory").
ENV NODE_ENV=production \
    MALLOC_ARENA_MAX=1 \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
LABEL org.opencontainers.image.title="tcp-tunnel" \
      org.opencontainers.image.version="0.1.0" \
      org.opencontainers.image.licenses="Apache-2.0"
USER 65532:65532
# 2222: SSH (bastions); 9090: /healthz + /metrics; forwards: 20000-20999.
EXPOSE 2222 9090
# No HEALTHCHECK: Kubernetes probes /healthz.
# 1 MiB semi-spaces: the gateway stays within its memory budget with 200
# tunnels, at no cost in throughput. Buffers' memory counted in V8's global
# limit: no full collection at each fixed step of packet buffers (a large
# share of a busy tunnel's CPU). Young collections without helper threads: with such small
# semi-spaces waking them costs more than they save. No Maglev or Sparkplug
# tier: on two CPUs their early compilations cost more than they gain, in
# connection rate and in memory (figures in docs/benchmarks.md). See
# packages/tunnel/src/bin/image-runtime.ts and docs/benchmarks.md; the
# benchmark runs both processes this way too.
ENTRYPOINT ["node", "--max-semi-space-size=1", "--external-memory-accounted-in-global-limit", "--no-parallel-scavenge", "--no-maglev", "--no-sparkplug"]
CMD ["dist/bin/gateway.js"]
