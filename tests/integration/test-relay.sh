#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The uevent relay on real hot-plug, into real containers:
# - a and b have their own user+net namespaces (root = host 100000): netlink
#   mode. Each hears exactly its own devices' events, DEVNAME as its policy
#   names the node, from a sender libudev accepts (uid 0 inside), in order;
#   `udevadm monitor --kernel --property` inside a prints them too.
# - c shares the host's netns: socket mode (RUN/containers/c/uevent.sock),
#   one listener from inside the container, one from the host, one that
#   never reads. The one that never reads loses events, counted; nobody
#   else does, and the daemon keeps serving.
# - The host's own listeners never hear a relayed event.
# - A container whose process exits loses its relay; the others go on.
source "$SOURCE_ROOT/tests/integration/lib.sh"

need_env DEVSIEVED NS_RUN UEVENT_LISTEN
command -v nsenter >/dev/null || fail "this test needs 'nsenter' (apt-get install util-linux)"
command -v udevadm >/dev/null || fail "this test needs 'udevadm' (apt-get install udev)"
[[ -x /usr/bin/python3 ]] || fail "this test needs /usr/bin/python3 (to forge netlink messages)"
[[ -w /sys/class/zram-control/hot_add ]] || skip "no zram hot_add on this kernel"

T=$TEST_TMPDIR
# What the containers' root (host uid 100000) writes goes to $T/shared.
chmod 0711 "$T"
mkdir -m 0777 "$T/shared"
RUN=$T/run
LOG=$T/devsieved.log
FLOOD=2000

# Other tests may hot-plug devices meanwhile: the policies name this test's
# loop devices exactly. L exists from the start (NAME renames it); N is
# hot-plugged later.
free_loop_index() {
        local i=$((5000 + RANDOM % 50000))
        while [[ -e /sys/block/loop$i || -e /sys/block/loop$((i + 1)) ]]; do
                i=$((i + 2))
        done
        echo "$i"
}
L=$(free_loop_index)
N=$((L + 1))
named=$("$LOOPCTL" add "$L") || fail "loopctl add $L failed"
loop_own "$L"

cat >"$T/a.rules" <<RULES
allow SUBSYSTEM=="block", KERNEL=="loop$N"
allow SUBSYSTEM=="block", KERNEL=="loop$L", NAME="dsv/disk0"
RULES
cat >"$T/b.rules" <<'RULES'
allow SUBSYSTEM=="block", KERNEL=="zram*"
RULES
cp "$T/a.rules" "$T/c.rules"

# start_container NAME [--net]: a container whose init sleeps; sets PID_NAME.
start_container() {
        local name=$1 pid
        shift
        "$NS_RUN" "$@" --pidfile "$T/$name.pid" -- sleep 600 &
        defer "kill $! 2>/dev/null; wait $! 2>/dev/null; true"
        for _ in {1..100}; do
                [[ -s $T/$name.pid ]] && break
                sleep 0.05
        done
        pid=$(<"$T/$name.pid") || fail "container $name did not start"
        printf -v "PID_$name" %s "$pid"
}
start_container a --net
start_container b --net
start_container c

# wait_for FILE REGEX [WHAT [SINCE]]: until FILE has a line matching REGEX
# (after line SINCE) (20 s: other tests may load the machine).
wait_for() {
        for _ in {1..400}; do
                # Not a pipe: grep -q leaves early, and pipefail would see tail's SIGPIPE.
                grep -Eq -- "$2" < <(tail -n "+$((${4:-0} + 1))" "$1" 2>/dev/null) && return 0
                kill -0 "$DAEMON_PID" 2>/dev/null || fail "devsieved died:"$'\n'"$(cat "$LOG")"
                sleep 0.05
        done
        fail "${3:-$1} has no line matching /$2/ after 20 s:"$'\n'"$(cat "$1" 2>/dev/null)"
}

"$DEVSIEVED" --foreground --runtime-dir "$RUN" --log-level debug \
        --container a="$T/a.rules" --container b="$T/b.rules" --container c="$T/c.rules" \
        --attach a="$PID_a" --attach b="$PID_b" --attach c="$PID_c" >"$LOG" 2>&1 &
DAEMON_PID=$!
defer "kill $DAEMON_PID 2>/dev/null; wait $DAEMON_PID 2>/dev/null; true"
wait_for "$LOG" 'Serving' "the daemon's log"
assert_contains "$(cat "$LOG")" "a: relaying uevents (netlink mode)."
assert_contains "$(cat "$LOG")" "b: relaying uevents (netlink mode)."
assert_contains "$(cat "$LOG")" "c: relaying uevents (socket mode)."
SOCK=$RUN/containers/c/uevent.sock
[[ -S $SOCK ]] || fail "no relay socket at $SOCK"

# listen NAME [uevent-listen args]: a listener whose output is $T/NAME.events;
# `inside PID` as the first arguments runs it in that container.
listen() {
        local name=$1
        shift
        local -a cmd=()
        if [[ ${1:-} == inside ]]; then
                cmd=(nsenter -t "$2" -U -m -n)
                shift 2
        fi
        "${cmd[@]}" "$UEVENT_LISTEN" --timeout 300 --ready "$T/shared/$name.ready" "$@" >"$T/$name.events" \
                2>"$T/$name.err" &
        defer "kill $! 2>/dev/null; wait $! 2>/dev/null; true"
        for _ in {1..100}; do
                [[ -e $T/shared/$name.ready ]] && return 0
                sleep 0.05
        done
        fail "listener $name did not start: $(cat "$T/$name.err")"
}
listen a inside "$PID_a"
listen b inside "$PID_b"
# As a runtime would: the socket bound into the container's mount namespace.
touch "$T/shared/uevent.sock"
nsenter -t "$PID_c" -m mount --bind "$SOCK" "$T/shared/uevent.sock"
listen c inside "$PID_c" --socket "$T/shared/uevent.sock"
listen c-host --socket "$SOCK"
listen host
nsenter -t "$PID_a" -U -m -n udevadm monitor --kernel --property >"$T/udevadm" 2>&1 &
defer "kill $! 2>/dev/null; wait $! 2>/dev/null; true"
wait_for "$T/udevadm" 'KERNEL - the kernel uevent' "udevadm monitor"
wait_for "$LOG" 'uevent listener connected \(2 now\)'
sleep 0.3 # udevadm prints its banner before it binds

# --- Loop devices: attach/detach (change), hot-plug add/remove ----------
file=$T/backing
truncate -s 1M "$file"
losetup "$named" "$file"
defer "losetup -d '$named' 2>/dev/null; true"
losetup -d "$named"
"$LOOPCTL" add "$N" >/dev/null || fail "loopctl add $N failed"
loop_own "$N"
"$LOOPCTL" remove "$N"
wait_for "$T/a.events" "^remove /devices/virtual/block/loop$N " "container a's events"
wait_for "$T/c.events" "^remove /devices/virtual/block/loop$N " "container c's events"
wait_for "$T/c-host.events" "^remove /devices/virtual/block/loop$N " "container c's host-side listener"

# ACTION DEVPATH DEVNAME of every event
summary() {
        sed -E 's/^([a-z]+) ([^ ]+) .*DEVNAME=([^ ]+).*$/\1 \2 \3/; t; s/^([a-z]+) ([^ ]+) .*$/\1 \2 -/' "$1"
}
expected="change /devices/virtual/block/loop$L dsv/disk0
change /devices/virtual/block/loop$L dsv/disk0
change /devices/virtual/block/loop$L dsv/disk0
add /devices/virtual/block/loop$N loop$N
remove /devices/virtual/block/loop$N loop$N"
assert_eq "$expected" "$(summary "$T/a.events")" "container a's events"
assert_eq "$expected" "$(summary "$T/c.events")" "container c's events (socket, from inside)"
assert_eq "$expected" "$(summary "$T/c-host.events")" "container c's events (socket, from the host)"
# libudev accepts only uid 0 as its namespace sees it.
assert_eq 5 "$(grep -c ' uid=0 ' "$T/a.events")" "events from uid 0 in container a"
# Socket mode numbers its own events; nothing of udev's database or the host's node.
assert_eq "1 2 3 4 5" "$(grep -o 'SEQNUM=[0-9]*' "$T/c.events" | cut -d= -f2 | xargs)" "socket mode SEQNUMs"
assert_not_contains "$(cat "$T/a.events" "$T/c.events")" "DEVLINKS=" "relayed events"
assert_match "$(cat "$T/a.events")" "^add /devices/virtual/block/loop$N uid=0 .*MAJOR=7 MINOR=$N" "container a's add"

# The real client: udevadm monitor inside the container.
wait_for "$T/udevadm" "^KERNEL\[.*\] remove +/devices/virtual/block/loop$N \(block\)" "udevadm monitor in a"
out=$(cat "$T/udevadm")
assert_match "$out" "^KERNEL\[.*\] add +/devices/virtual/block/loop$N \(block\)" "udevadm monitor in a"
assert_match "$out" "^KERNEL\[.*\] change +/devices/virtual/block/loop$L \(block\)" "udevadm monitor in a"
assert_contains "$out" "DEVNAME=/dev/dsv/disk0" "udevadm monitor in a"
assert_not_contains "$out" "bdi/" "udevadm monitor in a"

# --- Flood: c has a listener that never reads ---------------------------
listen c-stuck --socket "$SOCK" --no-read
wait_for "$LOG" 'uevent listener connected \(3 now\)'
# heard_all N: both reading listeners have N changes of loop L (60 s at most).
heard_all() {
        for _ in {1..1200}; do
                [[ $(grep -c "^change /devices/virtual/block/loop$L " "$T/c.events") -ge $1 &&
                        $(grep -c "^change /devices/virtual/block/loop$L " "$T/a.events") -ge $1 ]] && return 0
                sleep 0.05
        done
}
# In rounds of 500, each heard before the next: a queue holds 1024 events,
# so a listener that reads never loses one however busy the host, while
# the one that never reads overflows.
for ((i = 0; i < FLOOD; i++)); do
        echo change >"/sys/devices/virtual/block/loop$L/uevent"
        ((i % 500 != 499)) || heard_all $((3 + i + 1))
done
total=$((3 + FLOOD))
heard_all $total
# Everyone who reads got everything, in order.
assert_eq "$total" "$(grep -c "^change /devices/virtual/block/loop$L " "$T/a.events")" "changes heard in a"
assert_eq "$total" "$(grep -c "^change /devices/virtual/block/loop$L " "$T/c.events")" "changes heard in c"
assert_eq "$(seq 1 $((5 + FLOOD)) | xargs)" "$(grep -o 'SEQNUM=[0-9]*' "$T/c.events" | cut -d= -f2 | xargs)" \
        "socket mode SEQNUMs after the flood"
wait_for "$LOG" '^<4>devsieved: c: a uevent listener does not keep up: [0-9]+ events dropped' "the daemon's log"

# --- zram: only b; the daemon still serves after the flood --------------
# b's policy allows every zram device, and other tests on this machine may
# hot-plug zram devices (reusing indices, writing "change") meanwhile: only
# the add and remove this test made are checked, in order.
mark() { wc -l <"$1"; }
zram_summary() { # FILE SINCE INDEX
        tail -n "+$(($2 + 1))" "$1" >"$1.since"
        summary "$1.since" | grep -E "^(add|remove) /devices/virtual/block/zram$3 " | xargs
}
m=$(mark "$T/b.events")
z=$(cat /sys/class/zram-control/hot_add)
defer "if [[ -e /sys/block/zram$z ]]; then echo $z >/sys/class/zram-control/hot_remove; fi"
wait_for "$T/b.events" "^add /devices/virtual/block/zram$z " "container b's events" "$m"
echo "$z" >/sys/class/zram-control/hot_remove
wait_for "$T/b.events" "^remove /devices/virtual/block/zram$z " "container b's events" "$m"
assert_eq "add /devices/virtual/block/zram$z zram$z remove /devices/virtual/block/zram$z zram$z" \
        "$(zram_summary "$T/b.events" "$m" "$z")" "container b's events"
assert_not_contains "$(cat "$T/b.events")" "/loop" "container b's events"
sleep 0.3
assert_not_contains "$(cat "$T/a.events" "$T/c.events")" "zram" "events of a and c"

# --- Reload: a renamed node is remove + add, a newly allowed device ------
# arrives (synthetic add), one no longer allowed leaves (synthetic remove).
mb=$(mark "$T/b.events")
z2=$(cat /sys/class/zram-control/hot_add)
defer "if [[ -e /sys/block/zram$z2 ]]; then echo $z2 >/sys/class/zram-control/hot_remove; fi"
wait_for "$T/b.events" "^add /devices/virtual/block/zram$z2 " "container b's events" "$mb"
m=$(wc -l <"$T/a.events")
cp "$T/a.rules" "$T/a.rules.orig"
sed -i "s|dsv/disk0|dsv/disk1|" "$T/a.rules"
echo "allow SUBSYSTEM==\"block\", KERNEL==\"zram$z2\", NAME=\"dsv/zram\"" >>"$T/a.rules"
kill -HUP "$DAEMON_PID"
wait_for "$T/a.events" "^add /devices/virtual/block/zram$z2 " "container a's events after a reload" "$m"
wait_for "$T/a.events" "^add /devices/virtual/block/loop$L " "container a's events after a reload" "$m"
assert_eq "add /devices/virtual/block/loop$L dsv/disk1
add /devices/virtual/block/zram$z2 dsv/zram
remove /devices/virtual/block/loop$L dsv/disk0" \
        "$(tail -n "+$((m + 1))" "$T/a.events" | grep -v '^change ' >"$T/a.since"; summary "$T/a.since" | sort)" \
        "container a's events after a reload"
# The rename's remove comes before its add.
assert_match "$(grep "/loop$L " "$T/a.since" | head -1)" "^remove " "the rename's first event"
m=$(wc -l <"$T/a.events")
cp "$T/a.rules.orig" "$T/a.rules"
kill -HUP "$DAEMON_PID"
wait_for "$T/a.events" "^remove /devices/virtual/block/zram$z2 " "container a's events after a reload" "$m"
echo "$z2" >/sys/class/zram-control/hot_remove
wait_for "$T/b.events" "^remove /devices/virtual/block/zram$z2 " "container b's events" "$mb"
sleep 0.3
tail -n "+$((m + 1))" "$T/a.events" | grep -v '^change ' >"$T/a.since"
assert_eq "remove /devices/virtual/block/loop$L dsv/disk1
add /devices/virtual/block/loop$L dsv/disk0
remove /devices/virtual/block/zram$z2 dsv/zram" "$(summary "$T/a.since" | sort -k2,2 -s)" \
        "container a's events after the second reload"

# --- The host never hears a relayed event -------------------------------
# Every host event on these devices is the kernel's, once.
assert_eq 1 "$(grep -c "^add /devices/virtual/block/loop$N " "$T/host.events")" "host adds of loop$N"
assert_eq 1 "$(grep -c "^remove /devices/virtual/block/loop$N " "$T/host.events")" "host removes of loop$N"
assert_eq "$total" "$(grep -c "^change /devices/virtual/block/loop$L " "$T/host.events")" "host changes of loop$L"
assert_not_contains "$(cat "$T/host.events")" "dsv/disk0" "host events"

# --- Forged netlink replies ---------------------------------------------
# The relay's socket is in /proc/net/netlink of a's namespace (protocol 15,
# NETLINK_KOBJECT_UEVENT, no groups: the listeners have group 1), and a's
# root may send to it. Errors that do not come from the kernel are neither
# logged as refusals nor counted as drops.
forge='import socket, struct
rows = [l.split() for l in open("/proc/net/netlink").readlines()[1:]]
ports = [int(f[2]) for f in rows if f[1] == "15" and int(f[3], 16) == 0 and f[2] != "0"]
assert ports, "no relay socket in /proc/net/netlink"
s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 15)
# NLMSG_ERROR (2) carrying EPERM and the header of the request it answers
err = struct.pack("=iIHHII", -1, 16, 16, 1, 0, 0)
for port in ports:
    for _ in range(100):
        s.sendto(struct.pack("=IHHII", 16 + len(err), 2, 0, 0, 0) + err, (port, 0))'
nsenter -t "$PID_a" -U -m -n -- /usr/bin/python3 -c "$forge" || fail "sending forged netlink errors failed"
wait_for "$LOG" "a: ignoring netlink messages not from the kernel" "the daemon's log"
assert_not_contains "$(cat "$LOG")" "the kernel refused a relayed uevent" "the daemon's log"

# --- A container that goes away -----------------------------------------
kill "$(pgrep -P "$PID_a" 2>/dev/null || true)" "$PID_a" 2>/dev/null || true
wait_for "$LOG" "a: process $PID_a exited; its relay stops."
wait_for "$LOG" 'a: relay \(netlink\) stops: [0-9]+ events relayed, 0 dropped.'
mb=$(mark "$T/b.events")
z=$(cat /sys/class/zram-control/hot_add)
defer "if [[ -e /sys/block/zram$z ]]; then echo $z >/sys/class/zram-control/hot_remove; fi"
wait_for "$T/b.events" "^add /devices/virtual/block/zram$z " "container b's events after a went" "$mb"
echo "$z" >/sys/class/zram-control/hot_remove

# The stuck listener's drops are in the relay's final count.
kill "$DAEMON_PID"
wait "$DAEMON_PID" || fail "devsieved exited with $?:"$'\n'"$(cat "$LOG")"
assert_match "$(cat "$LOG")" 'c: relay \(socket\) stops: [0-9]+ events relayed, [1-9][0-9]* dropped.' "the daemon's log"
log "relay: $(grep 'relay (.*) stops' "$LOG" | sed 's/^<[0-9]>devsieved: //' | xargs)"
