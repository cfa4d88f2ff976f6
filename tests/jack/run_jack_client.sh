#!/bin/sh
# Runs a JACK client of the examples against a private JACK2 server on the dummy backend, and
# always stops the server again:
#   run_jack_client.sh <jackd> <jack_lsp> <client> <periods> [more client arguments]
# The server gets a name of its own (JACK_DEFAULT_SERVER), so a server already running on
# the machine is neither used nor disturbed.
set -u
jackd=$1 jack_lsp=$2 client=$3 periods=$4
shift 4
JACK_DEFAULT_SERVER="aes5_ctest_$$"
export JACK_DEFAULT_SERVER
log="${TMPDIR:-/tmp}/$JACK_DEFAULT_SERVER.log"
"$jackd" --no-realtime -d dummy -r 48000 -p 256 >"$log" 2>&1 &
server=$!
stop() {
  kill "$server" 2>/dev/null
  wait "$server" 2>/dev/null
  rm -f "$log"
}
trap stop EXIT
trap 'exit 1' INT TERM
# Wait up to 10 s for the server to accept clients.
tries=0
until "$jack_lsp" >/dev/null 2>&1; do
  tries=$((tries + 1))
  if [ "$tries" -ge 100 ] || ! kill -0 "$server" 2>/dev/null; then
    echo "the JACK server did not start:" >&2
    cat "$log" >&2
    exit 1
  fi
  sleep 0.1
done
"$client" --periods "$periods" "$@"
