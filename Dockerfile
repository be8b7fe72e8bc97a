# syntax=docker/dockerfile:1
# fitbit-influx: build with the Rust toolchain, run on a slim Debian as a non-root user.
# TLS uses rustls with bundled root certificates, so the runtime image needs no CA package.

FROM rust:1-slim-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY benches ./benches
# The crate registry and the build directory live in BuildKit caches: a rebuild after a code change
# (or a `git pull`) recompiles this crate only, not its few hundred dependencies — minutes, not the
# best part of an hour, on a Raspberry Pi.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin fitbit-influx \
    && install -D target/release/fitbit-influx /out/fitbit-influx

FROM debian:bookworm-slim
RUN useradd --system --uid 10001 --user-group --home-dir /data --shell /usr/sbin/nologin fitbit \
    && mkdir -p /data \
    && chown fitbit:fitbit /data
COPY --from=build /out/fitbit-influx /usr/local/bin/fitbit-influx
USER 10001:10001
ENV STATE_FILE=/data/state.json
VOLUME ["/data"]
# The daemon rewrites the health file next to its state file (/data/state.health.json) every 30 s;
# `health` fails when it is stale or reports a problem (for example a refresh token Google refused).
HEALTHCHECK --interval=60s --timeout=10s --start-period=60s --retries=3 \
    CMD ["fitbit-influx", "health"]
ENTRYPOINT ["fitbit-influx"]
CMD ["run"]
