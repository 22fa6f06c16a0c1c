#!/usr/bin/env bash
# `make cluster-demo`: a fleet of three `mailsync serve` nodes on a three-member etcd, on
# loopback, shown in a terminal: a company created through one node, its calls through another
# node redirected, a planned move (timed), and a failover after SIGKILL (timed).
#
# Everything runs on 127.0.0.1 on free ports, in a temporary directory removed at the end. The
# bucket the companies move through is a directory (`remoteBackup.directory`); the fleet tests
# use SeaweedFS. Needs `swift build` done (`make cluster-demo` does it).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
bin="$root/.build/debug/mailsync"
work="$(mktemp -d /tmp/mailsync-cluster-demo.XXXXXX)"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
now() { date +%s.%N; }
since() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f} s')" "$1" "$(now)"; }
json() { python3 -c "import json, sys; d = json.load(sys.stdin); print(eval(sys.argv[1], {}, {'d': d}))" "$1"; }

say "etcd: three members"
cluster=""; clients=()
for i in 0 1 2; do
    cp[$i]=$(free_port); pp[$i]=$(free_port)
    cluster+="${cluster:+,}m$i=http://127.0.0.1:${pp[$i]}"
    clients+=("http://127.0.0.1:${cp[$i]}")
done
for i in 0 1 2; do
    etcd --name "m$i" --data-dir "$work/etcd$i" --listen-client-urls "http://127.0.0.1:${cp[$i]}" \
        --advertise-client-urls "http://127.0.0.1:${cp[$i]}" --listen-peer-urls "http://127.0.0.1:${pp[$i]}" \
        --initial-advertise-peer-urls "http://127.0.0.1:${pp[$i]}" --initial-cluster "$cluster" \
        --initial-cluster-state new --initial-cluster-token "demo-$$" >"$work/etcd$i.log" 2>&1 &
    pids+=($!)
done
endpoints=$(IFS=,; echo "${clients[*]}")
echo "$endpoints"

export MAILSYNC_SECRET_KEY="$(openssl rand -base64 32)"
export MAILSYNC_BACKUP_KEY="$(openssl rand -base64 32)"
mkdir -p "$work/node-a"
operator=$("$bin" keys create-operator --data-dir "$work/node-a" --json | json 'd["secret"]')

say "three nodes (lease 4 s), each shipping to the shared bucket every 0.2 s"
declare -A port pid
start_node() {
    local node=$1
    port[$node]=${port[$node]:-$(free_port)}
    cat >"$work/$node.json" <<EOF
{"cluster": {"etcd": ["${clients[0]}", "${clients[1]}", "${clients[2]}"], "node": "$node", "leaseSeconds": 4, "fenceMarginSeconds": 1},
 "remoteBackup": {"directory": "$work/bucket", "shipIntervalSeconds": 0.2}}
EOF
    "$bin" serve --config "$work/$node.json" --listen "127.0.0.1:${port[$node]}" --data-dir "$work/$node" \
        --log-level notice >"$work/$node.log" 2>&1 &
    pid[$node]=$!
    pids+=($!)
}
for node in node-a node-b node-c; do start_node $node; done
for node in node-a node-b node-c; do
    for _ in $(seq 200); do (echo >/dev/tcp/127.0.0.1/${port[$node]}) 2>/dev/null && break; sleep 0.1; done
    echo "$node on 127.0.0.1:${port[$node]}"
done
"$bin" cluster status --etcd "$endpoints"

say "a company created through node-b (the operator key was made on node-a: it reached node-b through etcd)"
company=$("$bin" companies create --server "127.0.0.1:${port[node-b]}" --key "$operator" --json --name "Demo Co" \
    --plan essential --admin-id alice --admin-name Alice --admin-email alice@demo.example | json 'd["id"]')
key=$("$bin" keys create --server "127.0.0.1:${port[node-b]}" --key "$operator" --json --company "$company" --user alice | json 'd["secret"]')
echo "company $company"

say "its users listed through node-c (node-c answers 'moved'; the client follows to the owner)"
start=$(now)
"$bin" users list --server "127.0.0.1:${port[node-c]}" --key "$key"
echo "(first call through node-c: $(since "$start"))"

for i in 1 2 3; do "$bin" users create --server "127.0.0.1:${port[node-b]}" --key "$key" --id "user$i" --name "User $i" \
    --email "user$i@demo.example" --role salesperson >/dev/null; done

say "planned move to node-a"
"$bin" cluster move "$company" --to node-a --etcd "$endpoints"
start=$(now)
"$bin" users list --server "127.0.0.1:${port[node-b]}" --key "$key" >/dev/null
echo "first call after the move (node-b redirects; node-a restored the company from the bucket): $(since "$start")"
"$bin" cluster status --etcd "$endpoints"

say "failover: SIGKILL of node-a, the owner"
sleep 1  # the last writes ship (every 0.2 s)
kill -9 "${pid[node-a]}"
killed=$(now)
until "$bin" users list --server "127.0.0.1:${port[node-c]}" --key "$key" --timeout 2 >"$work/after.txt" 2>/dev/null; do sleep 0.1; done
echo "served again $(since "$killed") after the SIGKILL (lease 4 s):"
cat "$work/after.txt"
"$bin" cluster status --etcd "$endpoints"
say "done"
