# agp-rerank: multi-stage image for the API (default CMD) and the BullMQ training worker
# (same image, args override: ["node", "dist/cli/agp.js", "worker"]).
#
#   docker build -t agp-rerank:0.1.0 .
#   docker run --rm -p 8080:8080 --read-only --tmpfs /tmp agp-rerank:0.1.0
#
# The runtime stage runs as uid 10001, writes only to /tmp (mount a tmpfs/emptyDir there) and
# keeps tini as PID 1 so SIGTERM reaches node and the server drains (SHUTDOWN_GRACE_MS).

ARG NODE_IMAGE=node:22-bookworm-slim

# ---- build: compile TypeScript, then drop dev dependencies -------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
ENV CI=true \
    npm_config_audit=false \
    npm_config_fund=false \
    npm_config_update_notifier=false

# Dependencies first so this layer is cached until the lockfile changes.
COPY package.json package-lock.json ./
RUN npm ci

COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY openapi ./openapi
RUN npm run build \
 && npm prune --omit=dev \
 && npm cache clean --force

# ---- runtime ----------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime

RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 agp \
 && useradd --system --uid 10001 --gid agp --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin agp

# A V8 heap ceiling: without one V8 sizes the heap from the host's RAM and lets garbage pile up far past a pod's
# memory limit (docs/reliability.md, "Heap ceiling"). The chart derives it from resources.limits.memory.
ENV NODE_ENV=production \
    NODE_OPTIONS=--max-old-space-size=384 \
    PORT=8080 \
    HOST=0.0.0.0 \
    TMPDIR=/tmp \
    TRAINING_DATA_DIR=/tmp/agp-data

WORKDIR /app
# Owned by root and read-only for the service user: the app never writes to its own tree.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/openapi ./openapi
# The admin console's static files (served at /admin when ADMIN_TOKEN is set); no build step.
COPY console ./console

USER 10001:10001
EXPOSE 8080

# No curl in the slim image: Node 22's global fetch does the check.
HEALTHCHECK --interval=30s --timeout=3s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]

ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/server.js"]
