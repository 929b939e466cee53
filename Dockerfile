# salesline in a container: two stages.
#
# build    the build dependencies; the whole test suite (make check: a
#          sanitized build and every test, on SQLite) as an unprivileged
#          user; then make install into /tmp/out with PREFIX=/usr.
# runtime  the commands, their manual pages, sql/ and skills/, the run
#          time libraries and nothing else, as the unprivileged user
#          salesline (uid 10001).
#
# The default command is the pipeline of one bot, salesline-run; the same
# image runs the periodic work with `salesline-tick` as its command (a
# Kubernetes CronJob, or a loop in compose).  docs/deploy/ has examples.
#
#   docker build -t salesline .
#   docker run --rm -e TELEGRAM_BOT_TOKEN=... -e SALESLINE_DB=postgres://... salesline
FROM debian:bookworm AS build
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y \
	--no-install-recommends build-essential make pkg-config \
	ca-certificates curl jq perl procps util-linux sqlite3 tzdata \
	postgresql libcurl4-openssl-dev libjq-dev libsqlite3-dev libpq-dev \
	libmicrohttpd-dev libssl-dev man-db mandoc python3-yaml chromium \
	shellcheck \
	&& useradd --create-home --uid 10001 build
WORKDIR /src
COPY --chown=build:build . .
USER build
# make clean: objects or commands copied from the host are not trusted.
RUN make clean && make check
RUN make install DESTDIR=/tmp/out PREFIX=/usr

FROM debian:bookworm-slim AS runtime
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y \
	--no-install-recommends ca-certificates tzdata libcurl4 libjq1 \
	libsqlite3-0 libpq5 libmicrohttpd12 libssl3 util-linux procps \
	sqlite3 jq \
	&& rm -rf /var/lib/apt/lists/* \
	&& groupadd --system --gid 10001 salesline \
	&& useradd --system --uid 10001 --gid salesline --create-home \
		--home-dir /var/lib/salesline --shell /usr/sbin/nologin salesline
COPY --from=build /tmp/out/ /
# $SALESLINE_HOME/var (the default ledger, the sealing key, locks and the
# metrics file) is the salesline user's writable home.
RUN ln -s /var/lib/salesline /usr/share/salesline/var
ENV SALESLINE_HOME=/usr/share/salesline \
	SALESLINE_VAR=/var/lib/salesline \
	SALESLINE_DB=/var/lib/salesline/salesline.db
USER 10001:10001
WORKDIR /var/lib/salesline
VOLUME ["/var/lib/salesline"]
# A bot's container: ledger, Telegram, model and the pipeline's heartbeat.
# A tick container should override it (docs/deploy/compose.yaml does).
HEALTHCHECK --interval=60s --timeout=30s --start-period=60s --retries=3 \
	CMD ["salesline-health", "--skip", "tick,calendar"]
CMD ["salesline-run"]
