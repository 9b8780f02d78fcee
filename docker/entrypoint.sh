#!/bin/sh
# The image's entry point: `registry|trainer|editor|merger|serving [JVM options]` starts that service in the state
# directory (its defaults find .emend/keys there), anything else runs the `emend` command.
set -eu
home=/opt/emend
java_flags="--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Dai.djl.offline=true"

emend() {
  # shellcheck disable=SC2086
  java $java_flags ${EMEND_JVM_OPTIONS:-} -Demend.home="$home" -cp "$home/cli/emend-cli.jar:$home/cli/lib/*" \
    io.emend.cli.Emend "$@"
}

case "${1:-}" in
  registry|trainer|editor|merger|serving)
    service=$1
    shift
    # Serving presents a reader token to the registry; mint one from the stack's key unless one is given.
    if [ "$service" = serving ] && [ -z "${EMEND_SERVING_REGISTRY_TOKEN:-}" ] \
        && [ -f "${EMEND_DATA_DIR:-.emend}/keys/private.pem" ]; then
      EMEND_SERVING_REGISTRY_TOKEN=$(emend token --role reader --ttl 365d --user serving)
      export EMEND_SERVING_REGISTRY_TOKEN
    fi
    # shellcheck disable=SC2086
    exec java $java_flags ${EMEND_JVM_OPTIONS:-} "$@" -jar "$home/services/$service/quarkus-run.jar"
    ;;
  *)
    emend "$@"
    ;;
esac
