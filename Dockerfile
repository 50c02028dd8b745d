# One multi-stage image for every service; docker-compose picks the service with SERVICE.
# Node 24 (the current LTS) in containers; the code also runs on Node 20.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.base.json ./
COPY packages ./packages
COPY services ./services
COPY apps ./apps
COPY bench ./bench
COPY tests/package.json ./tests/package.json
RUN npm ci --no-audit --no-fund && npx tsc -b && npm run build -w @consult/console && npm prune --omit=dev

FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app /app
USER node
ARG SERVICE=gateway
ENV SERVICE=${SERVICE}
CMD ["sh", "-c", "exec node services/${SERVICE}/dist/main.js"]
