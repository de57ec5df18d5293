#!/usr/bin/env bash
# A throwaway single-node Slurm cluster (munged + slurmctld + slurmd) living in one folder.
#   support/test-slurm.sh start DIR   -> prints SLURM_CONF=DIR/slurm.conf
#   support/test-slurm.sh stop DIR    -> cancels jobs, stops the daemons, leaves no process
# Two clusters can run side by side (each picks free ports). Partitions: debug (default, no
# time limit) and urgent (MaxTime 1 h, higher priority tier: its jobs preempt debug's, cancelled). Env: SLURM_TEST_CPUS (default 8)
# is the CPU count the node advertises: more than the machine has lets trivial jobs overlap.
# Recipe: /work/shared/reference/slurm.md (Debian 12, Slurm 22.05).
set -euo pipefail
cmd=${1:?start|stop} dir=${2:?DIR}
[ "$(id -u)" = 0 ] || { echo "test-slurm.sh: needs root (slurmd runs jobs as their users)" >&2; exit 1; }

install_packages() {
  local missing=()
  for p in slurm-wlm slurmctld slurmd munge; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} = 0 ] && return
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# A TCP port nobody listens on right now (bound and released on all addresses, as slurmctld binds).
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("0.0.0.0", 0)); print(s.getsockname()[1])'; }
port_free() { python3 -c 'import socket,sys; s=socket.socket(); s.bind(("0.0.0.0", int(sys.argv[1])))' "$1" 2>/dev/null; }

# Every process of this cluster: its daemons and steps (started with SLURM_CONF in their
# environment) and its jobs (SLURM_CONF from sbatch, plus SLURM_JOB_ID). Not the caller's shell.
cluster_pids() {
  local conf="SLURM_CONF=$dir/slurm.conf" pid env
  for pid in $(ls /proc | grep -E "^[0-9]+$"); do
    env=$(tr '\0' '\n' 2>/dev/null <"/proc/$pid/environ") || continue
    grep -qxF "$conf" <<<"$env" || continue
    grep -q '^SLURM_JOB_ID=' <<<"$env" || grep -qxE 'slurmstepd|slurmd|slurmctld|slurmscriptd' "/proc/$pid/comm" 2>/dev/null \
      && echo "$pid"
  done | sort -u
}

pid_of() { [ -s "$1" ] && cat "$1" || true; }

write_conf() {
  local host=$1 ctld_port=$2 slurmd_port=$3 cpus=$4 mem
  mem=$(slurmd -C | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' | head -1)
  cat >"$dir/slurm.conf" <<EOF
ClusterName=local
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.socket
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
SlurmdParameters=config_overrides
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/log/jobcomp.txt
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
MinJobAge=3600
KillWait=5
NodeName=$host CPUs=$cpus Boards=1 SocketsPerBoard=1 CoresPerSocket=$cpus ThreadsPerCore=1 RealMemory=$mem NodeAddr=127.0.0.1 State=UNKNOWN
PreemptType=preempt/partition_prio
PreemptMode=CANCEL
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP PriorityTier=1
PartitionName=urgent Nodes=ALL Default=NO MaxTime=1:00:00 State=UP PriorityTier=2
EOF
}

# Ready: the node is idle and slurmctld has run its first scheduling cycle (jobs start at once).
wait_ready() {
  local deadline=$((SECONDS + 60)) state cycles
  while [ $SECONDS -lt $deadline ]; do
    state=$(sinfo -h -o %T 2>/dev/null || true)
    cycles=$(sdiag 2>/dev/null | awk -F: '/Total cycles/ {gsub(/ /, "", $2); print $2; exit}' || true)
    [ "$state" = idle ] && [ "${cycles:-0}" -ge 1 ] && return 0
    [ -n "$(pid_of "$dir/slurmctld.pid")" ] && ! kill -0 "$(pid_of "$dir/slurmctld.pid")" 2>/dev/null && break
    sleep 0.2
  done
  echo "test-slurm.sh: cluster in $dir not ready (node: '${state:-?}', cycles: '${cycles:-?}')" >&2
  tail -5 "$dir/log/slurmctld.log" "$dir/log/slurmd.log" >&2 2>/dev/null || true
  return 1
}

start() {
  install_packages
  "$0" stop "$dir" 2>/dev/null || true
  rm -rf "$dir" && mkdir -p "$dir"/{state,spool,log,munge}
  dir=$(cd "$dir" && pwd)
  chmod 755 "$dir" "$dir/munge" # munged refuses a socket folder without x for all
  mungekey -c -k "$dir/munge/munge.key" && chmod 600 "$dir/munge/munge.key"
  munged -S "$dir/munge/munge.socket" --key-file="$dir/munge/munge.key" --log-file="$dir/munge/munged.log" \
    --pid-file="$dir/munge/munged.pid" --seed-file="$dir/munge/munged.seed"
  export SLURM_CONF=$dir/slurm.conf
  local host cpus=${SLURM_TEST_CPUS:-8} try ctld_port slurmd_port
  host=$(hostname -s)
  for try in 1 2 3 4 5; do
    ctld_port=$(free_port) slurmd_port=$(free_port)
    [ "$ctld_port" != "$slurmd_port" ] && port_free "$ctld_port" && port_free "$slurmd_port" || continue
    write_conf "$host" "$ctld_port" "$slurmd_port" "$cpus"
    slurmctld -f "$SLURM_CONF" && slurmd -f "$SLURM_CONF" -N "$host" || true
    wait_ready && { echo "SLURM_CONF=$SLURM_CONF"; return 0; }
    # Someone took a port between the check and the bind: stop what started and try others.
    grep -q 'Address already in use' "$dir"/log/*.log 2>/dev/null || break
    stop_daemons
    rm -f "$dir"/log/slurm*.log
  done
  stop
  return 1
}

stop_daemons() {
  local f pid deadline
  for f in "$dir/slurmd.pid" "$dir/slurmctld.pid"; do
    pid=$(pid_of "$f")
    [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null || true
  done
  deadline=$((SECONDS + 10))
  for f in "$dir/slurmd.pid" "$dir/slurmctld.pid"; do
    pid=$(pid_of "$f")
    while [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
    rm -f "$f"
  done
}

stop() {
  [ -d "$dir" ] || return 0
  dir=$(cd "$dir" && pwd)
  export SLURM_CONF=$dir/slurm.conf
  local pid deadline left
  if [ -f "$SLURM_CONF" ] && [ -n "$(pid_of "$dir/slurmctld.pid")" ]; then
    # Cancel every job and wait (bounded) until slurmctld says none is left running.
    timeout 10 scancel --full $(timeout 10 squeue -h -o %i 2>/dev/null) 2>/dev/null || true
    deadline=$((SECONDS + 8))
    while [ $SECONDS -lt $deadline ] && [ -n "$(timeout 5 squeue -h -t running,completing -o %i 2>/dev/null)" ]; do
      sleep 0.2
    done
  fi
  stop_daemons
  # slurmstepd ignores TERM, and a job may have left children: KILL whatever still has our conf.
  for pid in $(cluster_pids); do kill -KILL "$pid" 2>/dev/null || true; done
  pid=$(pid_of "$dir/munge/munged.pid")
  [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null || true
  deadline=$((SECONDS + 10))
  while [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
  left=$(cluster_pids; [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid" || true)
  if [ -n "$left" ]; then
    echo "test-slurm.sh: processes left behind: $left" >&2
    return 1
  fi
  rm -rf "$dir"
}

case $cmd in
start) start ;;
stop) stop ;;
*) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
