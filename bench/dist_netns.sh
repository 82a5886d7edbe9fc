#!/bin/sh
# Simulated multi-node data-parallel training: N network namespaces ("nodes") on one machine, joined by
# a bridge, each behind a veth whose egress is shaped to RATE (tc tbf), and Open MPI's TCP transport
# between them (no shared memory: btl tcp,self). mpirun starts one rank per namespace through a small
# rsh agent that runs the daemon inside the namespace named by the host's address.
#
# Usage (root, needs iproute2 + Open MPI):  bench/dist_netns.sh LMC CONFIG.yaml N RATE [lmc train args...]
#   e.g. bench/dist_netns.sh build/lmc bench/dist_s.yaml 2 1gbit --set run.name=netns2
# Prints mpirun's output; the run's metrics.jsonl has comm_s (time inside collectives) per step.
set -eu
lmc=$(readlink -f "$1") cfg=$(readlink -f "$2") n=$3 rate=$4
shift 4
[ "$(id -u)" = 0 ] || { echo "needs root (ip netns)"; exit 1; }
agent="" hosts=""
cleanup() {
    i=0
    while [ $i -lt "$n" ]; do ip netns del lmcn$i 2>/dev/null || true; ip link del lmcv$i 2>/dev/null || true; i=$((i + 1)); done
    ip link del lmcbr 2>/dev/null || true
    [ -z "$agent" ] || rm -f "$agent" "$hosts"
}
trap cleanup EXIT
cleanup 2>/dev/null || true
agent=$(mktemp /tmp/lmc-netns-agent.XXXXXX)
hosts=$(mktemp /tmp/lmc-netns-hosts.XXXXXX)
ip link add lmcbr type bridge
ip addr add 10.77.0.254/24 dev lmcbr
ip link set lmcbr up
i=0
while [ $i -lt "$n" ]; do
    ip netns add lmcn$i
    ip link add lmcv$i type veth peer name eth0 netns lmcn$i
    ip link set lmcv$i master lmcbr up
    ip netns exec lmcn$i ip addr add 10.77.0.$((i + 1))/24 dev eth0
    ip netns exec lmcn$i ip link set eth0 up
    ip netns exec lmcn$i ip link set lo up
    # the node's uplink: RATE each way (egress of both ends of the veth)
    ip netns exec lmcn$i tc qdisc add dev eth0 root tbf rate "$rate" burst 512kb latency 50ms
    tc qdisc add dev lmcv$i root tbf rate "$rate" burst 512kb latency 50ms
    echo "10.77.0.$((i + 1)) slots=1" >> "$hosts"
    i=$((i + 1))
done
# Open MPI runs "AGENT HOST COMMAND..." to start its daemon on HOST: run it in that host's namespace
cat > "$agent" <<'EOF'
#!/bin/sh
while [ $# -gt 0 ] && [ "${1#-}" != "$1" ]; do shift; done
host=$1; shift
exec ip netns exec "lmcn$(( ${host##*.} - 1 ))" sh -c "$*"
EOF
chmod +x "$agent"
mpirun --allow-run-as-root --hostfile "$hosts" -np "$n" --map-by node --bind-to none \
    --mca plm_rsh_agent "$agent" --mca btl tcp,self --mca btl_tcp_if_include 10.77.0.0/24 \
    --mca oob_tcp_if_include 10.77.0.0/24 -x OMP_NUM_THREADS -x PATH \
    "$lmc" train "$cfg" "$@"
