# QuoteWatch container image: `gcloud run deploy --source .`, `docker build .`
# and `podman build .` all use this file. Two stages on the same base:
#   build   - Debian's build packages, `make all` (release, -O2), the page
#   runtime - only the runtime libraries, CA certificates, the binary and
#             the web assets; non-root; /data is the writable working
#             directory (a file:// warehouse lands in /data/warehouse).
# Configuration is by environment (PORT, ENABLE_PERSISTENCE,
# ICEBERG_WAREHOUSE, ICEBERG_CATALOG_URI, ...; docs/CLI.md) or by flags
# after the image name (`... quotewatch-image replay --help`).
ARG BASE=debian:bookworm-slim

FROM ${BASE} AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential pkg-config ca-certificates nodejs npm \
      libjansson-dev libzstd-dev libwebsockets-dev libssl-dev libsnappy-dev \
      libsqlite3-dev libpq-dev zlib1g-dev libcurl4-openssl-dev \
 && rm -rf /var/lib/apt/lists/*
# A network whose TLS is intercepted by a proxy: pass its CA for npm with
#   --build-arg NODE_EXTRA_CA_CERTS=/run/host-ca.crt -v HOST_CA.crt:/run/host-ca.crt:ro
ARG NODE_EXTRA_CA_CERTS=
WORKDIR /src
COPY . .
RUN rm -rf build web/node_modules \
 && make -j"$(nproc)" build/quotewatch build/web/index.html \
 && strip build/quotewatch \
 && rm -f build/web/*.map

FROM ${BASE}
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates libjansson4 libzstd1 libwebsockets17 libssl3 libsnappy1v5 \
      libsqlite3-0 libpq5 zlib1g libcurl4 \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb /var/cache/apt/*.bin \
 && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin quotewatch \
 && mkdir -p /data && chown quotewatch:quotewatch /data
COPY --from=build /src/build/quotewatch /opt/quotewatch/quotewatch
COPY --from=build /src/build/web /opt/quotewatch/web
RUN ln -s /opt/quotewatch/quotewatch /usr/local/bin/quotewatch
USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
ENV PORT=8050
EXPOSE 8050
STOPSIGNAL SIGTERM
ENTRYPOINT ["quotewatch"]
CMD ["live"]
