#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# devsieved's control socket and the devsieve commands that use it, against
# a real daemon: create, list, show, explain, add, remove, reload (good and
# broken policy), destroy; attach to a real namespaced process and its
# exit; monitor on a loop device hot-plug; bad requests (malformed JSON, an
# oversized line, wrong types, unknown commands) and a non-root client are
# refused and the daemon lives on; 100 containers created and destroyed
# without leaking mounts, fds or memory.
source "$SOURCE_ROOT/tests/integration/lib.sh"

[[ -n ${DEVSIEVED:-} && -n ${NS_RUN:-} ]] || fail "DEVSIEVED and NS_RUN are not set: run this test through 'meson test'"
command -v python3 >/dev/null || fail "this test needs python3 (raw socket requests)"
[[ -x /usr/bin/python3 ]] || fail "this test needs /usr/bin/python3 (a client of uid 65534)"
command -v setpriv >/dev/null || fail "this test needs setpriv (util-linux)"

# The unprivileged client must get to the socket and the binaries.
chmod 0755 "$TEST_TMPDIR"
RUNTIME=$TEST_TMPDIR/run
POLICIES=$TEST_TMPDIR/policies
mkdir -p "$POLICIES"
export DEVSIEVE_RUNTIME_DIR=$RUNTIME

cat >"$POLICIES/loops.rules" <<'RULES'
include "oci-default"
allow SUBSYSTEM=="block", KERNEL=="loop[0-9]*", MODE="0660", GROUP="6"
RULES

# --- Start the daemon --------------------------------------------------
# Group 65534 (nogroup) may connect: read-only requests are theirs, the rest
# must be refused by SO_PEERCRED, not only by the socket's mode.
"$DEVSIEVED" --foreground --runtime-dir "$RUNTIME" --policy-dir "$POLICIES" --socket-group 65534 \
        --client-timeout 5 --log-level debug 2>"$TEST_TMPDIR/daemon.log" &
DAEMON_PID=$!
defer "kill $DAEMON_PID 2>/dev/null; wait $DAEMON_PID 2>/dev/null; true"

daemon_alive() {
        kill -0 "$DAEMON_PID" 2>/dev/null || fail "devsieved died; its log:"$'\n'"$(tail -n 50 "$TEST_TMPDIR/daemon.log")"
}

for _ in {1..100}; do
        [[ -S $RUNTIME/devsieved.sock ]] && break
        daemon_alive
        sleep 0.05
done
assert_exit 0 "$DEVSIEVE" status
assert_contains "$OUT" "containers:        0"
assert_eq "srw-rw----" "$(stat -c %A "$RUNTIME/devsieved.sock")" "socket mode"

# raw LINE...: sends raw bytes (printf escapes) on one connection and prints
# every reply line until the daemon closes it or 2 s pass.
raw() {
        python3 - "$RUNTIME/devsieved.sock" "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.settimeout(2)
data = sys.argv[2].encode().decode('unicode_escape').encode('latin-1')
s.sendall(data)
s.shutdown(socket.SHUT_WR)
out = b''
try:
    while True:
        b = s.recv(65536)
        if not b:
            break
        out += b
except socket.timeout:
    pass
except ConnectionResetError:
    # The daemon closed with our oversized line still unread: the kernel
    # reports that as a reset after the reply.
    pass
sys.stdout.write(out.decode())
PY
}

# --- --help everywhere ----------------------------------------------------
for cmd in create attach destroy list show explain add remove reload monitor status check; do
        assert_exit 0 "$DEVSIEVE" "$cmd" --help
        assert_contains "$OUT" "Usage: devsieve $cmd"
done
assert_exit 0 "$DEVSIEVE" --help
assert_contains "$OUT" "--runtime-dir DIR"
assert_exit 2 "$DEVSIEVE" list --policy x
assert_contains "$ERR" "unknown option '--policy'"

# --- create, list, show, explain ---------------------------------------
log "create, list, show, explain"
assert_exit 0 "$DEVSIEVE" create c1 --policy loops
assert_contains "$OUT" "c1: created, policy loops"
assert_exit 0 "$DEVSIEVE" create c2 --policy oci-default --relay none
assert_exit 1 "$DEVSIEVE" create c1 --policy loops
assert_contains "$ERR" "container 'c1' exists already"
assert_exit 1 "$DEVSIEVE" create c3 --policy "$POLICIES/missing.rules"
assert_contains "$ERR" "missing.rules"
assert_exit 2 "$DEVSIEVE" create c3
assert_contains "$ERR" "missing --policy"
assert_exit 1 "$DEVSIEVE" create ../evil --policy loops
assert_contains "$ERR" "invalid container name"

assert_exit 0 "$DEVSIEVE" list --json
assert_eq "c1 c2" "$(jq -r '[.containers[].name] | join(" ")' <<<"$OUT")" "containers"
assert_eq "none" "$(jq -r '.containers[1].relay' <<<"$OUT")" "c2's relay"
assert_exit 0 "$DEVSIEVE" list
assert_match "$OUT" '^c1 +created +- +loops +[0-9]+ +0 +auto +live$'

loop_add dev
n=${dev#/dev/loop}
assert_exit 0 "$DEVSIEVE" show c1
assert_match "$OUT" "^loop$n +/dev/loop$n +block +7:[0-9]+ +0 +6 +0660 +$POLICIES/loops.rules:2$"
assert_match "$OUT" '^null +/dev/null +char +1:3 '
assert_exit 0 "$DEVSIEVE" show c2 --json
assert_eq "full null random tty urandom zero" "$(jq -r '[.devices[].path] | join(" ")' <<<"$OUT")" "c2's devices"

assert_exit 0 "$DEVSIEVE" explain c1 "$dev"
assert_contains "$OUT" "verdict:             allow"
assert_contains "$OUT" "loops.rules:2: allow SUBSYSTEM==\"block\""
assert_contains "$OUT" "visible as:        loop$n"
assert_exit 1 "$DEVSIEVE" explain c2 "$dev"
assert_contains "$OUT" "verdict:             default-deny"
assert_contains "$OUT" 'SUBSYSTEM=="mem" failed: the device has "block"'
assert_exit 0 "$DEVSIEVE" explain c2 "c 1:3" --json
assert_eq "<builtin:oci-default>:2" "$(jq -r '.explanation.rule' <<<"$OUT")" "deciding rule"
assert_exit 1 "$DEVSIEVE" explain c2 /dev/nonexistent
assert_contains "$ERR" "/dev/nonexistent"
assert_exit 1 "$DEVSIEVE" explain nosuch /dev/null
assert_contains "$ERR" "no container 'nosuch'"

# --- add, remove -------------------------------------------------------
log "add, remove"
assert_exit 0 "$DEVSIEVE" add c2 "$dev" --name disks/scratch --mode 0640 --owner 0 --group 6
assert_contains "$OUT" "visible as /dev/disks/scratch (runtime override)"
assert_exit 0 "$DEVSIEVE" show c2 --json
assert_eq "0640 6 runtime override" \
        "$(jq -r ".devices[] | select(.path == \"disks/scratch\") | \"\(.mode) \(.gid) \(.rule)\"" <<<"$OUT")" "added device"
assert_exit 0 "$DEVSIEVE" remove c2 "$dev"
assert_contains "$OUT" "hidden"
assert_exit 0 "$DEVSIEVE" show c2 --json
assert_eq "" "$(jq -r '.devices[] | select(.devname == "'"$dev"'") | .path' <<<"$OUT")" "removed device"
assert_exit 0 "$DEVSIEVE" remove c1 "$dev"
assert_exit 1 "$DEVSIEVE" explain c1 "$dev"
assert_contains "$OUT" "removed (devsieve remove)"
assert_exit 0 "$DEVSIEVE" remove c1 "$dev" --reset
assert_contains "$OUT" "visible as /dev/loop$n"
assert_exit 2 "$DEVSIEVE" add c1 "$dev" --owner root
assert_exit 1 "$DEVSIEVE" add c1 "$dev" --mode 999
assert_contains "$ERR" "octal"

# --- reload: a good policy, then a broken one ----------------------------
log "reload"
cat >"$POLICIES/loops.rules" <<'RULES'
include "oci-default"
allow SUBSYSTEM=="block", KERNEL=="loop[0-9]*", MODE="0600"
RULES
assert_exit 0 "$DEVSIEVE" reload c1
assert_contains "$OUT" "c1: reloaded"
assert_exit 0 "$DEVSIEVE" show c1 --json
assert_eq "0600" "$(jq -r ".devices[] | select(.path == \"loop$n\") | .mode" <<<"$OUT")" "mode after reload"

cat >"$POLICIES/loops.rules" <<'RULES'
include "oci-default"
allow SUBSYSTEM=="block", KERNEL="loop[0-9]*", MODE="0644"
RULES
assert_exit 1 "$DEVSIEVE" reload
assert_match "$ERR" "^$POLICIES/loops.rules:2:[0-9]+: error: "
assert_contains "$ERR" "the previous policy stays in force"
assert_exit 1 "$DEVSIEVE" reload --json
assert_eq "c1" "$(jq -r '.failed | join(" ")' <<<"$OUT")" "failed reloads"
assert_eq "c2" "$(jq -r '.reloaded | join(" ")' <<<"$OUT")" "good reloads"
assert_eq "2" "$(jq -r '.diagnostics[0].line' <<<"$OUT")" "diagnostic line"
assert_exit 0 "$DEVSIEVE" show c1 --json
assert_eq "0600" "$(jq -r ".devices[] | select(.path == \"loop$n\") | .mode" <<<"$OUT")" "mode after a broken reload"
# SIGHUP reloads everything the same way: the old policy stays.
kill -HUP "$DAEMON_PID"
for _ in {1..50}; do grep -q "c1: reload failed" "$TEST_TMPDIR/daemon.log" && break; sleep 0.05; done
assert_contains "$(cat "$TEST_TMPDIR/daemon.log")" "c1: reload failed, the previous policy stays in force"
daemon_alive
printf 'include "oci-default"\nallow SUBSYSTEM=="block", KERNEL=="loop[0-9]*"\n' >"$POLICIES/loops.rules"

# --- attach to a real container, and its exit ----------------------------
log "attach"
"$NS_RUN" --net --pidfile "$TEST_TMPDIR/ns.pid" -- sleep 300 &
NS_PID=$!
defer "kill $NS_PID 2>/dev/null; wait $NS_PID 2>/dev/null; true"
for _ in {1..100}; do [[ -s $TEST_TMPDIR/ns.pid ]] && break; sleep 0.05; done
cpid=$(<"$TEST_TMPDIR/ns.pid")
assert_exit 0 "$DEVSIEVE" attach c1 --pid "$cpid"
assert_contains "$OUT" "c1: attached"
assert_exit 0 "$DEVSIEVE" show c1 --json
assert_eq "$cpid attached" "$(jq -r '"\(.container.pid) \(.container.state)"' <<<"$OUT")" "attached"
# The container's root is host uid 100000: ownership follows the map.
assert_eq "100000" "$(jq -r '.devices[] | select(.path == "null") | .host_uid' <<<"$OUT")" "host uid of /dev/null"
assert_exit 1 "$DEVSIEVE" attach c2 --pid 999999999
assert_exit 1 "$DEVSIEVE" attach c2 --pid 4000000
assert_contains "$ERR" "attach 'c2'"
# An attach that fails half-way (netlink relay into a process in the host's
# network namespace is refused) changes nothing: no pid, no id maps.
"$NS_RUN" --pidfile "$TEST_TMPDIR/hostnet.pid" -- sleep 300 &
HOSTNET_PID=$!
defer "kill $HOSTNET_PID 2>/dev/null; wait $HOSTNET_PID 2>/dev/null; true"
wait_until "the host-netns container" test -s "$TEST_TMPDIR/hostnet.pid"
assert_exit 0 "$DEVSIEVE" create nl --policy loops --relay netlink
assert_exit 1 "$DEVSIEVE" attach nl --pid "$(<"$TEST_TMPDIR/hostnet.pid")"
assert_exit 0 "$DEVSIEVE" show nl --json
assert_eq "null created" "$(jq -r '"\(.container.pid) \(.container.state)"' <<<"$OUT")" "nl after a failed attach"
assert_eq "0" "$(jq -r '.devices[] | select(.path == "null") | .host_uid' <<<"$OUT")" \
        "host uid of nl's /dev/null after a failed attach"
assert_exit 0 "$DEVSIEVE" destroy nl
kill "$HOSTNET_PID"
kill "$NS_PID"
wait "$NS_PID" 2>/dev/null || true
for _ in {1..100}; do
        "$DEVSIEVE" list --json | jq -e '.containers[0].state == "exited"' >/dev/null && break
        sleep 0.05
done
assert_exit 0 "$DEVSIEVE" list --json
assert_eq "exited null" "$(jq -r '"\(.containers[0].state) \(.containers[0].pid)"' <<<"$OUT")" "after the exit"

# --- monitor a hot-plug -------------------------------------------------
log "monitor"
"$DEVSIEVE" monitor --json >"$TEST_TMPDIR/monitor" 2>"$TEST_TMPDIR/monitor.err" &
MON_PID=$!
defer "kill $MON_PID 2>/dev/null; true"
"$DEVSIEVE" monitor c2 >"$TEST_TMPDIR/monitor-c2" 2>&1 &
MON2_PID=$!
defer "kill $MON2_PID 2>/dev/null; true"
for _ in {1..100}; do
        [[ $("$DEVSIEVE" status --json | jq .monitors) == 2 ]] && break
        sleep 0.05
done
loop_add dev2
n2=${dev2#/dev/loop}
# wait_event ACTION: prints the monitor's line of that event on loop$n2.
# Whole lines only: the monitor may be writing the last one right now.
wait_event() {
        local line
        for _ in {1..400}; do
                line=$(grep -F "\"action\":\"$1\",\"devpath\":\"/devices/virtual/block/loop$n2\"" \
                        "$TEST_TMPDIR/monitor" | grep -E '\]\}$' | head -n 1) || true
                if [[ -n $line ]]; then
                        jq -c . <<<"$line"
                        return 0
                fi
                sleep 0.05
        done
        fail "no $1 event for loop$n2 in the monitor's stream:"$'\n'"$(cat "$TEST_TMPDIR/monitor" "$TEST_TMPDIR/monitor.err")"
}
ev=$(wait_event add | head -n 1)
assert_eq "relayed visible loop$n2" \
        "$(jq -r '.containers[] | select(.container == "c1") | "\(.outcome) \(.delta) \(.node)"' <<<"$ev")" "c1's outcome"
assert_eq "withheld no rule matched: hidden by default" \
        "$(jq -r '.containers[] | select(.container == "c2") | "\(.outcome) \(.reason)"' <<<"$ev")" "c2's outcome"
"$LOOPCTL" remove "$n2"
ev=$(wait_event remove | head -n 1)
assert_eq "relayed hidden" "$(jq -r '.containers[] | select(.container == "c1") | "\(.outcome) \(.delta)"' <<<"$ev")" \
        "c1's outcome of the removal"
# A change without a host event: a runtime override, as a "change" line.
assert_exit 0 "$DEVSIEVE" remove c1 /dev/null
change_lines() { grep -F '"type":"change","container":"c1"' "$TEST_TMPDIR/monitor" | grep -E '\]\}$' || true; }
for _ in {1..200}; do [[ -n $(change_lines) ]] && break; sleep 0.05; done
assert_eq "hidden /devices/virtual/mem/null null" \
        "$(change_lines | jq -r '.deltas[] | "\(.delta) \(.devpath) \(.node)"')" "c1's change line"
assert_exit 0 "$DEVSIEVE" remove c1 /dev/null --reset
# The per-container monitor saw only c2's side, as text.
for _ in {1..200}; do grep -q "^remove block /devices/virtual/block/loop$n2" "$TEST_TMPDIR/monitor-c2" && break; sleep 0.05; done
assert_match "$(cat "$TEST_TMPDIR/monitor-c2")" "^add block /devices/virtual/block/loop$n2 \\(/dev/loop$n2\\)"
assert_match "$(cat "$TEST_TMPDIR/monitor-c2")" "^  c2: withheld: no rule matched"
assert_not_contains "$(cat "$TEST_TMPDIR/monitor-c2")" "c1:"
kill "$MON_PID" "$MON2_PID"

# --- bad requests ---------------------------------------------------------
log "bad requests"
out=$(raw '{"command": "list"\n')
assert_contains "$out" '"ok":false' "unterminated object"
assert_contains "$out" 'malformed JSON'
out=$(raw 'not json at all\n[1,2]\n"list"\n{"command": 5}\n{"command":"frobnicate"}\n{"command":"create","name":"x","policy":7}\n{"command":"create","name":"x","policy":"loops","pid":"12"}\n{"command":"attach","name":"c1","pid":-4}\n{"command":"list","extra":1}\n{"command":"list","command":"list"}\n{"command":"create","name":"x","policy":"loops","pid":1.5}\n')
assert_eq 11 "$(grep -c '"ok":false' <<<"$out")" "error replies"$'\n'"$out"
assert_contains "$out" 'unknown command \"frobnicate\"'
assert_contains "$out" '\"policy\" must be a string'
assert_contains "$out" '\"pid\" must be an integer'
assert_contains "$out" 'unknown key \"extra\"'
# Nothing was created by any of them.
assert_exit 0 "$DEVSIEVE" list --json
assert_eq "c1 c2" "$(jq -r '[.containers[].name] | join(" ")' <<<"$OUT")" "containers after bad requests"
# A line over 64 KiB: one error, the connection closes, nothing changed.
big=$(head -c 70000 /dev/zero | tr '\0' 'a')
out=$(raw "{\"command\":\"create\",\"name\":\"big\",\"policy\":\"$big\"}\n{\"command\":\"list\"}\n")
assert_eq 1 "$(grep -c . <<<"$out")" "replies to an oversized line"
assert_contains "$out" 'longer than 65535 bytes'
assert_contains "$out" '"errno":7'
# Binary garbage and a client that sends half a line and hangs up.
out=$(raw '\x00\x01\x02\xff\xfe\n{"comm')
assert_eq 2 "$(grep -c '"ok":false' <<<"$out")" "garbage replies"
daemon_alive
assert_exit 0 "$DEVSIEVE" status

# --- a client that never reads -------------------------------------------
# Thousands of pipelined requests and no reads: the daemon stops reading
# it, then disconnects it, and keeps serving the others meanwhile.
python3 - "$RUNTIME/devsieved.sock" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.setblocking(False)
req = b'{"command":"show","name":"c1"}\n' * 1000
try:
    for _ in range(200):
        s.send(req)
except (BlockingIOError, ConnectionResetError, BrokenPipeError):
    pass
time.sleep(60)
PY
STUCK_PID=$!
defer "kill $STUCK_PID 2>/dev/null; true"
# Meanwhile others are served.
assert_exit 0 "$DEVSIEVE" list
# Slow under sanitizers: thousands of replies are built first.
for _ in {1..300}; do grep -q "replies unread; disconnecting" "$TEST_TMPDIR/daemon.log" && break; sleep 0.1; done
assert_contains "$(cat "$TEST_TMPDIR/daemon.log")" "bytes of replies unread; disconnecting"
assert_exit 0 "$DEVSIEVE" status
kill "$STUCK_PID" 2>/dev/null || true

# --- a non-root client ---------------------------------------------------
log "non-root client"
as_nobody() { setpriv --reuid 65534 --regid 65534 --clear-groups "$@"; }
assert_exit 1 as_nobody "$DEVSIEVE" destroy c1
assert_contains "$ERR" "permission denied: 'destroy' changes the daemon's state and needs root"
assert_exit 1 as_nobody "$DEVSIEVE" create c9 --policy loops
assert_contains "$ERR" "permission denied"
assert_exit 1 as_nobody "$DEVSIEVE" reload
assert_exit 0 as_nobody "$DEVSIEVE" list
assert_contains "$OUT" "c1"
assert_exit 0 as_nobody "$DEVSIEVE" explain c2 /dev/null
# Without the group the socket itself is closed to them.
assert_exit 3 setpriv --reuid 65534 --regid 65533 --clear-groups "$DEVSIEVE" list
assert_contains "$ERR" "Permission denied"
assert_contains "$ERR" "--socket-group"
assert_exit 0 "$DEVSIEVE" list --json
assert_eq "c1 c2" "$(jq -r '[.containers[].name] | join(" ")' <<<"$OUT")" "containers after refused requests"

# --- connection limits ------------------------------------------------------
# 20 idle connections of one group member: 16 are taken, 4 refused at once;
# root still gets in; the idle ones are closed after --client-timeout (5 s).
log "connection limits"
mkdir -m 0777 "$TEST_TMPDIR/nobody"
as_nobody /usr/bin/python3 - "$RUNTIME/devsieved.sock" "$TEST_TMPDIR/nobody/idle.ready" >"$TEST_TMPDIR/idle.out" \
        2>"$TEST_TMPDIR/idle.err" <<'PY' &
import socket, sys
socks = []
for _ in range(20):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sys.argv[1])
    socks.append(s)
open(sys.argv[2], "w").close()
refused = closed = 0
for s in socks:
    s.settimeout(120)
    data = b""
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    if b"too many clients" in data:
        refused += 1
    elif data == b"":
        closed += 1
print(f"refused={refused} closed={closed}")
PY
IDLE_PID=$!
defer "kill $IDLE_PID 2>/dev/null; true"
wait_until "the idle connections" test -e "$TEST_TMPDIR/nobody/idle.ready"
# Served after the 20 (the listen queue is in order): root gets in.
assert_exit 0 "$DEVSIEVE" status --json
assert_eq 4 "$(jq -r .clients_refused <<<"$OUT")" "connections refused"
wait "$IDLE_PID" || fail "the idle client failed: $(cat "$TEST_TMPDIR/idle.err")"
assert_eq "refused=4 closed=16" "$(cat "$TEST_TMPDIR/idle.out")" "the idle connections"
# One log line for the burst, not one per refusal.
assert_eq 1 "$(grep -c 'Control socket: refused' "$TEST_TMPDIR/daemon.log")" "log lines about refusals"
assert_exit 0 as_nobody "$DEVSIEVE" list
daemon_alive

# --- destroy --------------------------------------------------------------
log "destroy"
assert_exit 0 "$DEVSIEVE" destroy c1
assert_exit 0 "$DEVSIEVE" destroy c2
assert_exit 1 "$DEVSIEVE" destroy c2
assert_contains "$ERR" "no container 'c2'"
[[ ! -e $RUNTIME/containers/c1 ]] || fail "c1's directory is left over"

# --- 100 containers, twice: no leaks ----------------------------------------
log "100 containers"
# The daemon's connections of clients (accepted sockets carry the control
# socket's path), closed only when it reads their end: the last request's
# may still be open, an fd that is no leak.
client_conns() {
        ss -xp | awk -v p="$RUNTIME/devsieved.sock" -v pid="pid=$DAEMON_PID," '$5 == p && index($0, pid)' | wc -l
}
no_client_conns() { [[ $(client_conns) -eq 0 ]]; }
fds() { ls "/proc/$DAEMON_PID/fd" | wc -l; }
# Only the daemon's own mounts: other tests may mount elsewhere meanwhile.
mounts() { grep -c " $RUNTIME/" "/proc/$DAEMON_PID/mountinfo" || true; }
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$DAEMON_PID/status"; }
# Each container sees this test's own loop device only (a mount in its /sys
# view): a policy showing every loop device would make each create cost
# what other test runs attach meanwhile.
cat >"$POLICIES/round.rules" <<RULES
include "oci-default"
allow SUBSYSTEM=="block", KERNEL=="loop$n", MODE="0660", GROUP="6"
RULES
round() {
        local i
        for i in $(seq 1 100); do
                "$DEVSIEVE" create "many$i" --policy round >/dev/null || fail "create many$i"
        done
        assert_exit 0 "$DEVSIEVE" list --json
        assert_eq 100 "$(jq '.containers | length' <<<"$OUT")" "containers"
        assert_exit 0 "$DEVSIEVE" show many100 --json
        assert_eq "loop$n" "$(jq -r '[.devices[].path | select(startswith("loop"))] | join(" ")' <<<"$OUT")" \
                "many100's loop devices"
        for i in $(seq 1 100); do
                "$DEVSIEVE" destroy "many$i" || fail "destroy many$i"
        done
}
# The first round warms up the allocator's arenas and jansson's tables.
round
wait_until "devsieved to close its clients' connections" no_client_conns
fds0=$(fds) mounts0=$(mounts) rss0=$(rss_kib)
round
round
wait_until "devsieved to close its clients' connections" no_client_conns
fds1=$(fds) mounts1=$(mounts) rss1=$(rss_kib)
log "fds $fds0 -> $fds1, mounts $mounts0 -> $mounts1, RSS $rss0 -> $rss1 KiB"
assert_eq "$fds0" "$fds1" "devsieved's open fds"
assert_eq "$mounts0" "$mounts1" "mounts"
# ASan keeps freed memory in quarantine: there, LeakSanitizer at the exit
# below is the check.
if grep -q __asan_init "$DEVSIEVED"; then
        log "sanitizer build: RSS bound not checked"
else
        (( rss1 - rss0 <= 2048 )) || fail "RSS grew by $((rss1 - rss0)) KiB over 200 containers (bound: 2048 KiB)"
fi
[[ -z $(ls "$RUNTIME/containers") ]] || fail "container directories left over: $(ls "$RUNTIME/containers")"

# --- a delta that cannot be applied is counted; the others are applied ------
# null's node name is longer than NAME_MAX: it cannot be placed; full and
# zero, in the same batch, are.
log "apply errors"
cat >"$POLICIES/clash.rules" <<RULES
allow SUBSYSTEM=="mem", KERNEL=="null", NAME="$(printf 'n%.0s' {1..300})"
allow SUBSYSTEM=="mem", KERNEL=="zero|full"
RULES
assert_exit 0 "$DEVSIEVE" create clash --policy clash
assert_exit 0 "$DEVSIEVE" status --json
stats=$(jq -c '.containers[] | select(.name == "clash") | .dev_stats' <<<"$OUT")
assert_eq 1 "$(jq -r .apply_errors <<<"$stats")" "the /dev view's apply errors"
assert_eq 0 "$(jq -r '.containers[] | select(.name == "clash") | .sys_stats.apply_errors' <<<"$OUT")" \
        "the /sys view's apply errors"
# Listing the view needs root: containers/ is 0700.
[[ -c $RUNTIME/containers/clash/dev/full && -c $RUNTIME/containers/clash/dev/zero ]] ||
        fail "full or zero is missing from the view: $(ls "$RUNTIME/containers/clash/dev")"
assert_exit 0 "$DEVSIEVE" destroy clash

# --- a clean shutdown: the socket goes, and (sanitizer builds) no leaks -----
log "shutdown"
assert_exit 0 "$DEVSIEVE" create last --policy loops
daemon_alive
kill -TERM "$DAEMON_PID"
rc=0
wait "$DAEMON_PID" || rc=$?
assert_eq 0 "$rc" "devsieved's exit status; its log:"$'\n'"$(tail -n 30 "$TEST_TMPDIR/daemon.log")"
[[ ! -e $RUNTIME/devsieved.sock ]] || fail "the control socket is left over"
assert_exit 3 "$DEVSIEVE" list
assert_contains "$ERR" "is it running?"
