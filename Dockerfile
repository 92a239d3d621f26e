# Pipevideo: one instance. State lives in DENO_KV_PATH and DATA_DIR (mount /data), or in a shared
# KV (denokv over KV Connect) and object storage for several instances (docs/scale-out.md).
FROM denoland/deno:2.9.6

# ffmpeg renders the local model; it is found on PATH.
RUN apt-get update \
  && apt-get install -y --no-install-recommends ffmpeg \
  && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY . .
# Dependencies are fetched at build time (node_modules, the Deno cache), not at start-up.
RUN deno install --frozen --entrypoint main.ts \
  && mkdir -p /data \
  && chown -R deno:deno /app /data

USER deno
ENV PORT=8000 \
  DATA_DIR=/data \
  DENO_KV_PATH=/data/pipevideo.sqlite \
  APP_ENV=production
VOLUME /data
EXPOSE 8000
# Liveness: the process answers. Orchestrators route traffic on /readyz (compose.yaml does).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["deno", "run", "--allow-net=127.0.0.1", "--allow-env=PORT", "scripts/healthcheck.ts", "/healthz"]
CMD ["task", "start"]
