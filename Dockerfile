# One image for the whole platform: the five services and the `emend` command (Kubernetes Jobs run `emend finetune`).
# Build the jars first, then the image (the build context is the checkout, trimmed by .dockerignore):
#   ./mvnw -q -B -DskipTests -pl '!bench,!src/test' package
#   docker build -t emend/emend:latest .
# Run a service with its name as the argument (`registry`, `trainer`, `editor`, `merger`, `serving`); any other
# arguments go to the `emend` command (`keys`, `token`, `models import`, `finetune`, ...).
FROM eclipse-temurin:25-jre
WORKDIR /opt/emend
COPY cli/target/emend-cli.jar cli/emend-cli.jar
COPY cli/target/lib/ cli/lib/
COPY services/registry/target/quarkus-app/ services/registry/
COPY services/trainer/target/quarkus-app/ services/trainer/
COPY services/editor/target/quarkus-app/ services/editor/
COPY services/merger/target/quarkus-app/ services/merger/
COPY services/serving/target/quarkus-app/ services/serving/
COPY models/demo/ models/demo/
COPY docker/entrypoint.sh /usr/local/bin/emend-entrypoint
# State lives under /var/lib/emend, a volume in every deployment, and the services run there, so their relative
# defaults (.emend/keys for tokens, .emend/db for H2, caches, work files, the filesystem object store) land in it,
# as under the checkout with ./emend up. PyTorch's native library is unpacked from its jar into DJL's cache there.
ENV EMEND_DATA_DIR=/var/lib/emend/.emend \
    DJL_CACHE_DIR=/var/lib/emend/.emend/djl \
    OMP_WAIT_POLICY=PASSIVE \
    EMEND_JVM_OPTIONS="-XX:MaxRAMPercentage=75"
RUN chmod 0755 /usr/local/bin/emend-entrypoint && mkdir -p /var/lib/emend/.emend
VOLUME /var/lib/emend
WORKDIR /var/lib/emend
EXPOSE 8081 8082 8083 8084 8085
ENTRYPOINT ["/usr/local/bin/emend-entrypoint"]
CMD ["--help"]
