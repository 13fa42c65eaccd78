#!/bin/bash
# slurm-dev.sh -- trackit's local test cluster: single-node SLURM (+ optional slurmdbd/MariaDB accounting)
# for a plain Debian 12 (bookworm) machine, running as root, WITHOUT systemd.
#
# Usage:  scripts/slurm-dev.sh [start|stop|status]      (default: start)
#
# start   installs packages if missing (apt), writes configs, starts
#         munged -> mariadbd -> slurmdbd -> slurmctld -> slurmd (each only if
#         not already running), and waits until `sinfo` shows the node idle.
#         Idempotent: running it again on a running cluster changes nothing
#         except rewriting identical config files.
# stop    cancels all jobs, then stops slurmd, slurmctld, slurmdbd, mariadbd,
#         munged by the PIDs in their pid files (only processes it started).
# status  prints which daemons are alive and `sinfo`.
#
# Environment knobs:
#   SLURM_ACCOUNTING=1|0     1 (default): MariaDB + slurmdbd, so `sacct` works.
#                            0: accounting_storage/none (sacct prints
#                            "Slurm accounting storage is disabled").
#   SLURM_CGROUP=auto|v1|none auto (default): task/cgroup + proctrack/cgroup on
#                            cgroup v1 if the v1 memory+freezer+cpuset
#                            controllers are mounted (OOM -> OUT_OF_MEMORY);
#                            otherwise proctrack/linuxproc + task/none +
#                            JobAcctGatherParams=OverMemoryKill (OOM -> FAILED).
#   SLURM_WAIT_S=60          how long to wait for the node to become idle.
set -euo pipefail

ACTION=${1:-start}
ACCOUNTING=${SLURM_ACCOUNTING:-1}
CGROUP_MODE=${SLURM_CGROUP:-auto}
WAIT_S=${SLURM_WAIT_S:-60}
CLUSTER=trackit
DB_PASS=slurmdbpass          # local-only test database password

log() { echo "[slurm-dev] $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (it installs Debian packages with apt-get and starts munged, mariadbd, slurmdbd, slurmctld and slurmd as system daemons); current uid is $(id -u)"

# ---------------------------------------------------------------- helpers
# pid_alive PIDFILE NAME: true if PIDFILE names a live process whose comm is NAME
pid_alive() {
    local f=$1 name=$2 pid
    [ -s "$f" ] || return 1
    pid=$(cat "$f" 2>/dev/null) || return 1
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
    [ "$(cat /proc/"$pid"/comm 2>/dev/null)" = "$name" ]
}

# stop_pidfile PIDFILE NAME: SIGTERM the process, wait up to 20 s, then SIGKILL
stop_pidfile() {
    local f=$1 name=$2 pid i
    if ! pid_alive "$f" "$name"; then log "$name: not running"; return 0; fi
    pid=$(cat "$f")
    log "$name: stopping pid $pid"
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then log "$name: still alive, SIGKILL"; kill -KILL "$pid" 2>/dev/null || true; fi
    rm -f "$f"
}

# wait_for SECONDS CMD...: poll CMD every 0.2 s until it succeeds
wait_for() {
    local secs=$1 i; shift
    for i in $(seq 1 $((secs * 5))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
    return 1
}

# ---------------------------------------------------------------- stop / status
if [ "$ACTION" = stop ]; then
    if command -v squeue >/dev/null 2>&1 && pid_alive /run/slurmctld.pid slurmctld; then
        ids=$(squeue -h -o '%A' 2>/dev/null || true)
        if [ -n "$ids" ]; then log "cancelling jobs: $(echo $ids)"; scancel $ids 2>/dev/null || true; sleep 3; fi
    fi
    stop_pidfile /run/slurmd.pid slurmd
    stop_pidfile /run/slurmctld.pid slurmctld
    stop_pidfile /run/slurmdbd.pid slurmdbd
    stop_pidfile /run/mysqld/mysqld.pid mariadbd
    stop_pidfile /run/munge/munged.pid munged
    exit 0
fi

if [ "$ACTION" = status ]; then
    for d in "munged /run/munge/munged.pid" "mariadbd /run/mysqld/mysqld.pid" \
             "slurmdbd /run/slurmdbd.pid" "slurmctld /run/slurmctld.pid" "slurmd /run/slurmd.pid"; do
        set -- $d
        if pid_alive "$2" "$1"; then echo "$1: running (pid $(cat "$2"))"; else echo "$1: stopped"; fi
    done
    sinfo 2>&1 || true
    exit 0
fi

[ "$ACTION" = start ] || die "unknown action '$ACTION' (start|stop|status)"

ms_now() { echo $(( $(date +%s%N) / 1000000 )); }
secs_since() { local d=$(( $(ms_now) - $1 )); printf "%d.%03d" $((d / 1000)) $((d % 1000)); }
T_START=$(ms_now)

# ---------------------------------------------------------------- 1. packages
PKGS="munge slurm-client slurmctld slurmd"
[ "$ACCOUNTING" = 1 ] && PKGS="$PKGS slurmdbd mariadb-server"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
    log "installing:$missing"
    # keep maintainer scripts from starting daemons via /etc/init.d (we start them by hand)
    made_policy=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d; made_policy=1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
    [ "$made_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
    log "packages installed after $(secs_since "$T_START")s"
fi
T_INSTALLED=$(ms_now)

# ---------------------------------------------------------------- 2. host facts
HOST=$(hostname -s)
getent hosts "$HOST" >/dev/null 2>&1 || { log "adding $HOST to /etc/hosts"; echo "127.0.0.1 $HOST" >> /etc/hosts; }
# slurmd -C works without a slurm.conf; it prints e.g.
# NodeName=vm CPUs=2 Boards=1 SocketsPerBoard=1 CoresPerSocket=2 ThreadsPerCore=1 RealMemory=24105
HW=$(slurmd -C | head -1)
hw() { echo "$HW" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
CPUS=$(hw CPUs); SOCKETS=$(hw SocketsPerBoard); CORES=$(hw CoresPerSocket); THREADS=$(hw ThreadsPerCore)
REALMEM=$(( $(hw RealMemory) - 1024 ))      # leave ~1 GiB for the OS and the daemons
[ "$REALMEM" -ge 512 ] || REALMEM=512

if [ "$CGROUP_MODE" = auto ]; then
    if [ -f /sys/fs/cgroup/memory/memory.limit_in_bytes ] && [ -d /sys/fs/cgroup/freezer ] \
       && [ -d /sys/fs/cgroup/cpuset ]; then CGROUP_MODE=v1; else CGROUP_MODE=none; fi
fi
log "host=$HOST cpus=$CPUS realmem=${REALMEM}M cgroup=$CGROUP_MODE accounting=$ACCOUNTING"

# ---------------------------------------------------------------- 3. config files
mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm

write_slurm_conf() {   # $1 = cgroup mode (v1|none)
    local proctrack task gather params acct
    if [ "$1" = v1 ]; then
        proctrack=proctrack/cgroup; task=task/cgroup,task/affinity
        gather=jobacct_gather/cgroup; params="#JobAcctGatherParams="
    else
        proctrack=proctrack/linuxproc; task=task/none
        gather=jobacct_gather/linux; params="JobAcctGatherParams=OverMemoryKill"
    fi
    if [ "$ACCOUNTING" = 1 ]; then
        acct="AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStoragePort=6819"
    else
        acct="AccountingStorageType=accounting_storage/none"
    fi
    cat > /etc/slurm/slurm.conf.new <<EOF
# Generated by trackit scripts/slurm-dev.sh -- single-node test cluster, no systemd.
ClusterName=$CLUSTER
SlurmctldHost=$HOST
AuthType=auth/munge
CryptoType=crypto/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
MailProg=/bin/true
MpiDefault=none
SwitchType=switch/none
ReturnToService=2
ProctrackType=$proctrack
TaskPlugin=$task
SchedulerType=sched/backfill
# batch_sched_delay=0 / sched_min_interval=0: submit->RUNNING ~1 s instead of ~2-3 s
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=256
JobAcctGatherType=$gather
JobAcctGatherFrequency=task=1
$params
$acct
JobCompType=jobcomp/none
InactiveLimit=0
KillWait=2
OverTimeLimit=0
MinJobAge=600
Waittime=0
NodeName=$HOST CPUs=$CPUS SocketsPerBoard=$SOCKETS CoresPerSocket=$CORES ThreadsPerCore=$THREADS RealMemory=$REALMEM State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
# A second partition on the same node, so tests can move a job between partitions.
PartitionName=batch Nodes=ALL MaxTime=2-00:00:00 State=UP
EOF
    cmp -s /etc/slurm/slurm.conf.new /etc/slurm/slurm.conf || CONF_CHANGED=1
    mv /etc/slurm/slurm.conf.new /etc/slurm/slurm.conf
    cat > /etc/slurm/cgroup.conf <<EOF
CgroupPlugin=cgroup/v1
CgroupMountpoint=/sys/fs/cgroup
ConstrainCores=yes
ConstrainRAMSpace=yes
ConstrainSwapSpace=no
EOF
}
write_slurm_conf "$CGROUP_MODE"

if [ "$ACCOUNTING" = 1 ]; then
    cat > /etc/slurm/slurmdbd.conf <<EOF
AuthType=auth/munge
DbdHost=localhost
DbdPort=6819
SlurmUser=root
DebugLevel=info
LogFile=/var/log/slurm/slurmdbd.log
PidFile=/run/slurmdbd.pid
StorageType=accounting_storage/mysql
StorageHost=localhost
StoragePort=3306
StorageUser=slurm
StoragePass=$DB_PASS
StorageLoc=slurm_acct_db
EOF
    chmod 600 /etc/slurm/slurmdbd.conf
fi

# ---------------------------------------------------------------- 4. munged
if [ ! -s /etc/munge/munge.key ]; then
    log "creating munge key"
    mungekey --create --keyfile=/etc/munge/munge.key 2>/dev/null \
        || dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
fi
chown munge:munge /etc/munge/munge.key; chmod 400 /etc/munge/munge.key
mkdir -p /run/munge /var/log/munge /var/lib/munge
chown munge:munge /run/munge /var/log/munge /var/lib/munge; chmod 755 /run/munge
if pid_alive /run/munge/munged.pid munged; then log "munged: already running"
else
    log "munged: starting"
    runuser -u munge -- /usr/sbin/munged          # daemonizes, writes /run/munge/munged.pid
    wait_for 10 sh -c 'munge -n | unmunge' || die "munged did not come up (see /var/log/munge/munged.log)"
fi

# ---------------------------------------------------------------- 5. MariaDB + slurmdbd
if [ "$ACCOUNTING" = 1 ]; then
    mkdir -p /run/mysqld; chown mysql:root /run/mysqld
    [ -d /var/lib/mysql/mysql ] || mariadb-install-db --user=mysql >/dev/null
    if pid_alive /run/mysqld/mysqld.pid mariadbd; then log "mariadbd: already running"
    else
        log "mariadbd: starting"
        setsid nohup /usr/sbin/mariadbd --user=mysql >>/var/log/slurm/mariadb.log 2>&1 </dev/null &
        wait_for 30 mariadb-admin --protocol=socket ping || die "mariadbd did not come up (see /var/log/slurm/mariadb.log)"
    fi
    mariadb --protocol=socket -e "CREATE DATABASE IF NOT EXISTS slurm_acct_db;
        CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY '$DB_PASS';
        GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost'; FLUSH PRIVILEGES;"
    if pid_alive /run/slurmdbd.pid slurmdbd; then log "slurmdbd: already running"
    else
        log "slurmdbd: starting"
        slurmdbd                                     # daemonizes, writes /run/slurmdbd.pid
    fi
    # sacctmgr talks to slurmdbd (needs AccountingStorageType=slurmdbd in slurm.conf)
    wait_for 60 sacctmgr -n list cluster || die "slurmdbd not answering (see /var/log/slurm/slurmdbd.log)"
    if ! sacctmgr -n -P list cluster format=Cluster | grep -qx "$CLUSTER"; then
        log "registering cluster $CLUSTER"
        sacctmgr -i add cluster "$CLUSTER" >/dev/null
    fi
fi

# ---------------------------------------------------------------- 6. slurmctld + slurmd
start_slurm() {
    if pid_alive /run/slurmctld.pid slurmctld; then log "slurmctld: already running"
    else log "slurmctld: starting"; slurmctld; fi          # daemonizes
    wait_for 30 scontrol ping || die "slurmctld not answering (see /var/log/slurm/slurmctld.log)"
    if pid_alive /run/slurmd.pid slurmd; then log "slurmd: already running"
    else log "slurmd: starting"; slurmd; fi                # daemonizes
}
start_slurm
# Daemons that were already running read a changed slurm.conf only when told to.
if [ "${CONF_CHANGED:-0}" = 1 ]; then scontrol reconfigure >/dev/null 2>&1 || true; fi
sleep 1
if ! pid_alive /run/slurmd.pid slurmd && [ "$CGROUP_MODE" != none ]; then
    log "slurmd died with cgroup mode $CGROUP_MODE; falling back to proctrack/linuxproc + task/none"
    tail -5 /var/log/slurm/slurmd.log >&2 || true
    CGROUP_MODE=none
    write_slurm_conf none
    stop_pidfile /run/slurmctld.pid slurmctld
    start_slurm
fi

# ---------------------------------------------------------------- 7. wait for idle
node_state() { sinfo -h -n "$HOST" -o '%T' 2>/dev/null | head -1; }
ok=0
for i in $(seq 1 $((WAIT_S * 5))); do
    st=$(node_state)
    case "$st" in
        idle|mixed|allocated) ok=1; break ;;
        down*|drain*|fail*)  scontrol update NodeName="$HOST" State=RESUME >/dev/null 2>&1 || true ;;
    esac
    sleep 0.2
done
[ "$ok" = 1 ] || { sinfo >&2; die "node $HOST not idle after ${WAIT_S}s (state '$st')"; }
log "cluster up: node $HOST is $st; start took $(secs_since "$T_INSTALLED")s (total incl. install $(secs_since "$T_START")s)"
sinfo
