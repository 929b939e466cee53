# salesline: two stages.  The build stage installs the build dependencies,
# runs the whole test suite (make check) and installs into /out; the
# runtime stage carries only the commands, their pages, sql/ and skills/,
# and runs as an unprivileged user.
FROM debian:bookworm AS build
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y \
	--no-install-recommends build-essential pkg-config ca-certificates \
	curl jq perl procps util-linux sqlite3 tzdata postgresql \
	libcurl4-openssl-dev libjq-dev libsqlite3-dev libpq-dev \
	libmicrohttpd-dev
WORKDIR /src
COPY . .
RUN make check && make install DESTDIR=/out PREFIX=/usr

FROM debian:bookworm-slim
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y \
	--no-install-recommends ca-certificates tzdata libcurl4 libjq1 \
	libsqlite3-0 libpq5 util-linux \
	&& rm -rf /var/lib/apt/lists/* \
	&& useradd --system --create-home --home-dir /var/lib/salesline salesline
COPY --from=build /out/ /
ENV SALESLINE_HOME=/usr/share/salesline \
	SALESLINE_DB=/var/lib/salesline/salesline.db
USER salesline
WORKDIR /var/lib/salesline
CMD ["salesline-db", "status"]
