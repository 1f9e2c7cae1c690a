#!/usr/bin/env bash
# A real single-node SLURM cluster on localhost (Debian's slurm-wlm + munge), for the SLURM profile test
# (tests/workflow/test_slurm.py) and for trying workflow/profiles/slurm by hand.
#
#   bash .ci/slurm-cluster.sh          # start (idempotent: a running cluster is left as it is)
#   bash .ci/slurm-cluster.sh status   # exit 0 when the node accepts jobs
#   bash .ci/slurm-cluster.sh stop     # stop slurmd, slurmctld and the munged this script started
#
# Needs root (munged and slurmd run as root here) and the packages of .ci/system-packages.sh. No accounting
# (snakemake then queries job states with `--slurm-status-command squeue`; MinJobAge keeps finished jobs in
# squeue for 30 minutes), no cgroups (proctrack/linuxproc, task/none: works inside containers). The node has
# this machine's CPUs and memory (`slurmd -C`); partitions `cpu` (default) and `gpu` both hold it, so the
# profile's per-rule partitions are exercised on one machine without GPUs.
# State, logs and pid files live in $SLURM_CLUSTER_DIR (default /tmp/radiogenomics-slurm); the config is
# written to /etc/slurm/slurm.conf (the path Debian's clients read) with a marker line, and an existing
# slurm.conf without that marker (a real cluster's) is never overwritten.
set -euo pipefail

DIR=${SLURM_CLUSTER_DIR:-/tmp/radiogenomics-slurm}
CONF=/etc/slurm/slurm.conf
MARKER="# radiogenomics single-node test cluster (.ci/slurm-cluster.sh)"
ACTION=${1:-start}

say() { echo "slurm-cluster: $*"; }
die() { echo "slurm-cluster: $*" >&2; exit 1; }

node_up() {
  # the node answers and is idle/mixed/allocated (not down, drained or unknown)
  local state
  state=$(sinfo -h -N -o '%T' 2>/dev/null | head -n1) || return 1
  [[ "$state" =~ ^(idle|mixed|allocated|completing)$ ]]
}

pid_alive() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

stop() {
  local pid
  for name in slurmd slurmctld munged; do
    if pid_alive "$DIR/$name.pid"; then
      pid=$(cat "$DIR/$name.pid")
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      say "stopped $name (pid $pid)"
    fi
    rm -f "$DIR/$name.pid"
  done
}

case "$ACTION" in
  stop) stop; exit 0 ;;
  status) node_up && { say "up: $(sinfo -h -N -o '%N %T %c CPUs %m MB' | head -n1)"; exit 0; } || { say "down"; exit 1; } ;;
  start) ;;
  *) die "unknown action '$ACTION' (start, status, stop)" ;;
esac

for bin in munged slurmctld slurmd sbatch squeue sinfo scontrol; do
  command -v "$bin" >/dev/null || die "$bin not found: install slurm-wlm and munge (bash .ci/system-packages.sh)"
done
if node_up && grep -qF "$MARKER" "$CONF" 2>/dev/null; then
  say "already running: $(sinfo -h -N -o '%N %T %c CPUs %m MB' | head -n1)"
  say "stop it with: bash $0 stop"
  exit 0
fi
[[ "$(id -u)" -eq 0 ]] || die "must run as root (munged, slurmctld and slurmd are started here)"
if [[ -f "$CONF" ]] && ! grep -qF "$MARKER" "$CONF"; then
  die "$CONF exists and was not written by this script (a real cluster?); not touching it"
fi

mkdir -p "$DIR"/{state,spool,log,munge} /etc/slurm
chmod 0700 "$DIR/munge"

# --- munge: a key if none, and a daemon with its own socket under $DIR ---
if [[ ! -s /etc/munge/munge.key ]]; then
  mkdir -p /etc/munge
  dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key status=none
fi
chown root:root /etc/munge/munge.key
chmod 0400 /etc/munge/munge.key
SOCKET=/run/munge/munge.socket.2  # the path the SLURM auth plugin uses by default
mkdir -p /run/munge
if ! pid_alive "$DIR/munged.pid"; then
  if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    munged --force --socket="$SOCKET" --pid-file="$DIR/munged.pid" --log-file="$DIR/log/munged.log" \
      --seed-file="$DIR/munge/munged.seed" --key-file=/etc/munge/munge.key
  fi
fi
for _ in $(seq 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.1; done
munge -n | unmunge >/dev/null || die "munge does not work (see $DIR/log/munged.log)"

# --- slurm.conf: this machine as the only node ---
HOST=$(hostname -s 2>/dev/null || hostname)
NODE=$(slurmd -C | head -n1 | sed -E 's/ *UpTime=.*//')  # NodeName=<host> CPUs=... RealMemory=...
[[ "$NODE" == NodeName=* ]] || die "slurmd -C gave no node line: $NODE"
cat > "$CONF.tmp" <<EOF
$MARKER
ClusterName=radiogenomics
SlurmctldHost=$HOST(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
SlurmctldPort=6817
SlurmdPort=6818
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
MinJobAge=1800
SlurmdTimeout=120
$NODE NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=cpu Nodes=ALL Default=YES MaxTime=INFINITE State=UP
PartitionName=gpu Nodes=ALL Default=NO MaxTime=INFINITE State=UP
EOF
mv "$CONF.tmp" "$CONF"
# slurmd always loads a cgroup plugin; under cgroup v2 without systemd (containers) it must not ask systemd for
# a scope. cgroup v1 hosts need no cgroup.conf. An existing cgroup.conf without the marker is left alone.
CGROUP_CONF=/etc/slurm/cgroup.conf
if [[ "$(stat -fc %T /sys/fs/cgroup 2>/dev/null)" == cgroup2fs ]] && \
   { [[ ! -f "$CGROUP_CONF" ]] || grep -qF "$MARKER" "$CGROUP_CONF"; }; then
  printf '%s\nCgroupPlugin=cgroup/v2\nIgnoreSystemd=yes\n' "$MARKER" > "$CGROUP_CONF"
fi

if pid_alive "$DIR/slurmctld.pid"; then
  scontrol reconfigure >/dev/null 2>&1 || true
else
  slurmctld -i
fi
for _ in $(seq 100); do scontrol ping 2>/dev/null | grep -q UP && break; sleep 0.2; done
scontrol ping | grep -q UP || die "slurmctld did not come up (see $DIR/log/slurmctld.log)"
pid_alive "$DIR/slurmd.pid" || slurmd
for _ in $(seq 150); do node_up && break; sleep 0.2; done
if ! node_up; then
  scontrol update nodename="$HOST" state=resume >/dev/null 2>&1 || true
  sleep 1
fi
node_up || die "node not up: $(sinfo -N 2>&1 | tail -n +2) (see $DIR/log/slurmd.log, $DIR/log/slurmctld.log)"
say "up: $(sinfo -h -N -o '%N %T %c CPUs %m MB' | head -n1); partitions: $(sinfo -h -o '%P' | tr '\n' ' ')"
say "logs in $DIR/log; stop it with: bash $0 stop"
