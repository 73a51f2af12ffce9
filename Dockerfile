# dblab-rds-refresh in a container: multi-stage, Debian slim, non-root.
#
#   make image          (docker build -t dblab-rds-refresh:$(cat VERSION) .)
#   docker run --rm -v /path/to/config.yaml:/config.yaml:ro \
#     -v dblab-rds-refresh-state:/var/lib/dblab-rds-refresh \
#     -e AWS_ACCESS_KEY_ID -e AWS_SECRET_ACCESS_KEY -e DBLAB_TOKEN \
#     dblab-rds-refresh:0.1.0 -config /config.yaml
#   make image-push REGISTRY=ACCOUNT_ID.dkr.ecr.us-east-1.amazonaws.com
#                       (for deploy/k8s/cronjob.yaml; see docs/deploy.md)
#
# The state volume keeps the record of the clone in flight, so a container
# killed mid-run is recovered (its clone deleted) by the next run.

FROM debian:bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential pkg-config \
      libcurl4-openssl-dev libyaml-dev libcjson-dev libssl-dev libxml2-dev help2man \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Makefile VERSION ./
COPY common/ common/
COPY cmds/ cmds/
COPY wrappers/ wrappers/
COPY examples/ examples/
COPY docs/ docs/
COPY packaging/ packaging/
COPY README.md ./
COPY deploy/ deploy/
RUN make -j"$(nproc)" all && make install PREFIX=/usr/local DESTDIR=/out

# The AWS Lambda image (deploy/sam, docs/deploy-aws.md): docker build --target lambda .
# lambda-bootstrap is the custom runtime: it serves the Runtime API and runs one
# pipeline step per invocation (CMD step), or the seed's entry (CMD entry). A
# Debian binary needs Debian's glibc, which the zip runtimes (Amazon Linux) lack:
# hence an image. The configuration is filled from the function's environment.
FROM debian:bookworm-slim AS lambda
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates libcurl4 libyaml-0-2 \
      libcjson1 libssl3 libxml2 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/usr/local/bin/ /usr/local/bin/
COPY --from=build /src/deploy/lambda/config.yaml /etc/dblab-rds-refresh/lambda.yaml
ENV DBLAB_RDS_REFRESH_CONFIG=/etc/dblab-rds-refresh/lambda.yaml \
    DRR_LAMBDA_BIN_DIR=/usr/local/bin
ENTRYPOINT ["/usr/local/bin/lambda-bootstrap"]
CMD ["step"]

# The command-line image (the default target: the last stage).
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates libcurl4 libyaml-0-2 \
      libcjson1 libssl3 libxml2 util-linux \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 dblab \
 && useradd --system --uid 10001 --gid dblab --home-dir /var/lib/dblab-rds-refresh \
      --shell /usr/sbin/nologin dblab \
 && install -d -o dblab -g dblab -m 0700 /var/lib/dblab-rds-refresh
COPY --from=build /out/usr/local/ /usr/local/
USER 10001:10001
VOLUME ["/var/lib/dblab-rds-refresh"]
ENV DRR_STATE_DIR=/var/lib/dblab-rds-refresh
# The driver traps SIGTERM (docker stop) and deletes the clone within 25 s:
# use `docker stop -t 30` or more.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/dblab-rds-refresh"]
CMD ["-help"]
