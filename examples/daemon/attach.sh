#!/bin/sh
# Attaching a container through netplumbd's socket with nothing but curl (docs/daemon.md):
# a network (made if missing), a container namespace made by the daemon, an endpoint with
# a published port, then the same endpoint detached.
#
#   examples/daemon/attach.sh [SOCKET] [NETWORK] [CONTAINER]
#
# Any HTTP client that speaks over a unix socket does the same (Python's http.client with
# a socket of AF_UNIX, Go's net/http with a DialContext to "unix").
set -eu
SOCK=${1:-/run/netplumb/netplumb.sock}
NET=${2:-demo}
CTR=${3:-ctr1}
api() { # METHOD PATH [JSON]: prints the answer; fails (curl -f) on a 4xx or 5xx
  curl -sS -f --unix-socket "$SOCK" -X "$1" -H 'content-type: application/json' ${3:+--data "$3"} "http://netplumb$2"
}

api GET /v1/health >/dev/null
# 409 when it exists already: fine.
curl -sS --unix-socket "$SOCK" -X POST -H 'content-type: application/json' \
  --data "{\"name\": \"$NET\", \"subnet\": \"10.123.0.0/24\"}" "http://netplumb/v1/networks" >/dev/null

# The daemon makes the namespace ("create"; a path or a name of an existing one goes in
# "netns" instead), attaches it, publishes 8080 -> 80: the endpoint comes back as JSON.
EP=$(api POST "/v1/networks/$NET/endpoints" \
  "{\"create\": \"$CTR\", \"name\": \"$CTR\", \"publish\": [{\"hostPort\": 8080, \"containerPort\": 80}]}")
echo "attached: $EP"
ID=$(printf '%s' "$EP" | sed -n 's/.*"id":"\([0-9a-f]\{64\}\)".*/\1/p')

api GET "/v1/networks/$NET/endpoints"
echo
api DELETE "/v1/networks/$NET/endpoints/$ID" >/dev/null
echo "detached: $ID"
