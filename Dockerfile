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
CMD ["task", "start"]
