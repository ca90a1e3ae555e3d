# portal-gw in a container: one static binary (musl) in an empty image.
#
#   docker build -t portal-gw .                      # FROM scratch: /portal-gw
#   docker build --target demo -t portal-gw-demo .   # busybox + examples/*.sh
#   docker run --rm -p 8080:8080 portal-gw-demo      # ws://localhost:8080/echo
#
# portal-gw runs as PID 1: it reaps every orphan that lands on it and, on
# SIGTERM (docker stop), sends Close 1001 to every client, ends the children
# and exits 0. No tini or `docker run --init` is needed.
#
# The scratch image holds nothing portal-gw could start: build your own on
# top of a base that has your program (README, "Docker"):
#
#   FROM portal-gw AS gw
#   FROM python:3-slim
#   COPY --from=gw /portal-gw /usr/local/bin/portal-gw
#   COPY greet.py /app/greet.py
#   ENTRYPOINT ["portal-gw"]
#   CMD ["/greet=python3 /app/greet.py"]
#
# Each RUN below works as is on a Debian 12 host: `make static` is the
# target tests/e2e_static.bats runs as PID 1 of a PID namespace.

FROM debian:bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      binutils gcc libc6-dev linux-libc-dev make musl-tools \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN make static && ./build/portal-gw-static --version

# The examples need a shell: busybox's, built against musl too.
FROM busybox:1.36-musl AS demo
COPY --from=build /src/build/portal-gw-static /portal-gw
COPY examples/echo.sh examples/count.sh examples/err.sh /examples/
WORKDIR /examples
USER 65534:65534
EXPOSE 8080
ENTRYPOINT ["/portal-gw"]
CMD ["/echo=./echo.sh", "/count=./count.sh", "/err=./err.sh"]

# The default image: the binary alone. $PORT overrides the port 8080 that
# portal-gw listens on when --port is absent.
FROM scratch
COPY --from=build /src/build/portal-gw-static /portal-gw
USER 65534:65534
EXPOSE 8080
ENTRYPOINT ["/portal-gw"]
