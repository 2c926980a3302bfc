# syntax=docker/dockerfile:1
#
# Understudy as a container. The image holds exactly what the npm package holds, with the
# dependency versions of package-lock.json: the build stage packs the package with `npm pack`,
# unpacks that tarball into /opt/understudy and installs its production dependencies there with
# `npm ci` from the project's lockfile (the tarball has none, so installing it alone would resolve
# whatever versions are newest that day); the runtime stage copies only /opt/understudy.
# docs/deployment.md explains how to run it.
#
#   docker build -t understudy-server:0.2.0 .
#   docker run -d --init -p 127.0.0.1:8080:8080 -v understudy-data:/data understudy-server:0.2.0

ARG NODE_VERSION=20

# node:20-bookworm (not -slim) has python3, make and g++, in case better-sqlite3 has to compile
# its native module because no prebuilt binary could be downloaded.
FROM node:${NODE_VERSION}-bookworm AS build
WORKDIR /src
COPY package.json package-lock.json ./
# Only the TypeScript compiler runs here; the native modules are built below, for the installed package.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
# `npm pack` runs `prepack`: a clean build into dist/. It writes only into a directory that exists.
# `npm ci` refuses a lockfile that does not match the package.json beside it, and runs the
# dependencies' install scripts (better-sqlite3 fetches or compiles its native module).
RUN mkdir /tmp/pack /opt/understudy \
 && npm pack --pack-destination /tmp/pack \
 && tar -xzf /tmp/pack/understudy-server-*.tgz -C /opt/understudy --strip-components=1 \
 && cp package-lock.json /opt/understudy/package-lock.json \
 && cd /opt/understudy \
 && npm ci --omit=dev --no-audit --no-fund \
 && node dist/cli/main.js --version

FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production \
    UNDERSTUDY_HOST=0.0.0.0 \
    UNDERSTUDY_PORT=8080 \
    UNDERSTUDY_DATA_DIR=/data
# A user of its own, not root; /data belongs to it, so a named volume mounted there does too.
RUN groupadd --system --gid 10001 understudy \
 && useradd --system --uid 10001 --gid 10001 --home-dir /data --no-create-home --shell /usr/sbin/nologin understudy \
 && mkdir -p /data \
 && chown 10001:10001 /data \
 && chmod 0700 /data
COPY --from=build /opt/understudy /opt/understudy
# The `understudy` command, as npm links a package's bin (Node follows the link to find the package).
RUN ln -s /opt/understudy/dist/cli/main.js /usr/local/bin/understudy
USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8080
# /readyz answers 200 only while the database answers. The slim image has no curl; Node has fetch.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.UNDERSTUDY_PORT||8080)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# `serve` stops gracefully on SIGTERM (requests in flight finish). Run with `docker run --init`
# (compose: `init: true`) so that one-off commands such as `understudy outbox` stop on Ctrl-C too.
ENTRYPOINT ["understudy"]
CMD ["serve"]
