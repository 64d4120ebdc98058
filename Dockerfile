# syntax=docker/dockerfile:1

# Debian bookworm for both stages: the runtime's ffmpeg comes from Debian's security-maintained
# archive, and the native modules built in the first stage must link against the same glibc.
ARG NODE_IMAGE=node:22-bookworm-slim

# --- Build: production dependencies only, with a compiler for better-sqlite3 ---
FROM ${NODE_IMAGE} AS build
WORKDIR /app
# better-sqlite3 downloads a prebuilt binary when one exists for this Node version and CPU, and
# compiles itself with node-gyp (python3, make, g++) when none does.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
# tsx is a runtime dependency (the service runs its TypeScript directly), so --omit=dev keeps it.
# The static ffmpeg/ffprobe builds from npm (about 140 MB, from 2018) are dropped: the runtime stage
# installs Debian's, which FFMPEG_PATH points at. SCARF_ANALYTICS=false keeps swagger-ui-dist's
# install-time usage report from calling out during the build.
RUN SCARF_ANALYTICS=false npm ci --omit=dev --no-audit --no-fund \
 && npm cache clean --force \
 && rm -rf node_modules/@ffmpeg-installer/linux-* node_modules/@ffprobe-installer/linux-*

# --- Runtime ---
FROM ${NODE_IMAGE} AS runtime
# tini as PID 1 forwards SIGTERM to node (which then drains in-flight requests) and reaps children.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg tini \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# Code and dependencies stay owned by root: the service user can read them, not change them.
COPY --from=build /app/node_modules ./node_modules
COPY package.json package-lock.json tsconfig.json ./
COPY sql ./sql
COPY src ./src
# The SQLite database (the default store) lives in the volume; the node user (uid 1000) owns it.
RUN mkdir -p /app/data && chown node:node /app/data
VOLUME ["/app/data"]

# HOST=0.0.0.0 is reachable from other machines, so start-up requires API_KEYS or API_KEYS_FILE
# (or ALLOW_UNAUTHENTICATED=true behind an authenticating proxy): pass them with -e or --env-file.
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    DATABASE_URL=sqlite:/app/data/moderation.sqlite \
    FFMPEG_PATH=/usr/bin/ffmpeg \
    FFPROBE_PATH=/usr/bin/ffprobe \
    VIDEO_TEMP_DIR=/tmp/moderation-video

USER node
EXPOSE 8080
# No curl in the slim image: Node's own fetch asks /healthz (public unless PUBLIC_ENDPOINTS drops "health").
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT}/healthz`, { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--"]
# node itself (with tsx as its loader) rather than `npm start`: one process, which gets the signals.
CMD ["node", "--import", "tsx", "src/main.ts"]
