# Sourced by .ci/run and ./emend: exports JAVA_HOME pointing at a JDK >= 25, or exits with a clear message.
emend_java_major() { "$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p'; }
emend_find_jdk() {
  local c
  for c in "${JAVA_HOME:-}" $(dirname "$(dirname "$(readlink -f "$(command -v java 2>/dev/null || echo /nonexistent)")")" 2>/dev/null) /usr/lib/jvm/* /opt/java/* /opt/jdk* "$HOME"/.sdkman/candidates/java/*; do
    [ -n "$c" ] && [ -x "$c/bin/javac" ] || continue
    local v; v=$(emend_java_major "$c")
    [ -n "$v" ] && [ "${v%%.*}" -ge 25 ] 2>/dev/null && { echo "$c"; return 0; }
  done
  return 1
}
if ! JAVA_HOME=$(emend_find_jdk); then
  echo "emend: no JDK 25 or newer found; install one and set JAVA_HOME to it" >&2
  exit 1
fi
export JAVA_HOME
export PATH="$JAVA_HOME/bin:$PATH"
