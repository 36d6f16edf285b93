#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The /dev view from inside a real container: devsieved standalone serves
# one container (a user + mount namespace made by ns-run, root = host
# 100000) whose /dev is the view. Checked with real tools: the exact
# listing, owners and modes; reading /dev/zero; a hidden device unreachable
# by every name; the container's own sockets, files, fifos and directories;
# mknod; hot-plug of loop and zram devices; a pty; and many readers while
# 20 loop devices come and go.
source "$SOURCE_ROOT/tests/integration/lib.sh"

need_env DEVSIEVED NS_RUN
command -v script >/dev/null || fail "this test needs 'script' (apt-get install bsdutils)"
[[ -x /usr/bin/python3 ]] || fail "this test needs /usr/bin/python3 (a socket for /dev/log)"
[[ -w /sys/class/zram-control/hot_add ]] || skip "no zram hot_add on this kernel"
[[ -c /dev/kmsg ]] || skip "no /dev/kmsg to hide"

RT=$TEST_TMPDIR/rt
VIEW=$RT/containers/c/dev
mkdir -p "$VIEW"
# The container binds the view's mountpoint before devsieved mounts it
# (devsieved needs the container's pid first): a shared runtime directory
# makes the later mount arrive in the container's (slave) /dev, as it
# would on a systemd host where / is shared.
mount --bind "$RT" "$RT"
defer "umount -R -l '$RT'"
mount --make-shared "$RT"

# Other test runs on this host hot-plug loop and zram devices meanwhile:
# this container sees loop devices from this test's own range
# (loop${LB}00 to loop${LB}99) only, and listings leave out zram devices
# other than this test's.
for _ in {1..100}; do
        LB=$((100 + RANDOM % 800))
        compgen -G "/sys/class/block/loop$LB[0-9][0-9]" >/dev/null || break
done
cat >"$TEST_TMPDIR/c.rules" <<RULES
include "oci-default"
# mknod allowed for this one (the m right).
allow SUBSYSTEM=="mem", KERNEL=="zero", TYPE=="char", MODE="0666", ACCESS="rwm"
# A node in subdirectories, with links.
allow SUBSYSTEM=="mem", KERNEL=="full", TYPE=="char", MODE="0640", GROUP="5", NAME="misc/deep/full", \
      SYMLINK+="fullalias disk/by-x/full"
allow SUBSYSTEM=="block", KERNEL=="loop$LB[0-9][0-9]", MODE="0660", GROUP="6"
deny  SUBSYSTEM=="block", KERNEL=="loop*", ATTR{loop/backing_file}=="$TEST_TMPDIR/hidden.img"
allow SUBSYSTEM=="block", KERNEL=="zram[0-9]*", MODE="0640", GROUP="6"
RULES

# my_loop_add N: loop device ${LB}N (N < 100), removed at exit.
my_loop_add() {
        local n=$((LB * 100 + $1))
        [[ -e /sys/class/block/loop$n ]] && fail "loop$n exists already"
        "$LOOPCTL" add "$n" >/dev/null || fail "loopctl add $n failed"
        loop_own "$n"
}

# One of this test's loop devices is there from the start.
my_loop_add 50
STATIC_LOOP=loop$((LB * 100 + 50))

"$NS_RUN" --dev "$VIEW" --pidfile "$TEST_TMPDIR/pid" -- sleep infinity &
NS_PID=$!
defer "kill $NS_PID 2>/dev/null; wait $NS_PID 2>/dev/null || true"
for _ in {1..100}; do [[ -s $TEST_TMPDIR/pid ]] && break; sleep 0.02; done
CPID=$(<"$TEST_TMPDIR/pid")

"$DEVSIEVED" --foreground --runtime-dir "$RT" --container "c=$TEST_TMPDIR/c.rules" --attach "c=$CPID" \
        --log-level debug >"$TEST_TMPDIR/devsieved.log" 2>&1 &
D_PID=$!
defer "kill $D_PID 2>/dev/null; wait $D_PID 2>/dev/null || true"
# On failure, what devsieved said ($rc is the exit status lib.sh's cleanup
# is about to return).
defer "[[ \${rc:-0} -eq 0 ]] || { tail -n 150 '$TEST_TMPDIR/devsieved.log'; ls -l '$VIEW' '$VIEW/block'; } >&2"

# in_container CMD...: a shell command as the container's root.
in_container() {
        nsenter -t "$CPID" -U -m -- bash -c "$1"
}

daemon_alive() {
        kill -0 "$D_PID" 2>/dev/null || fail "devsieved died:"$'\n'"$(tail -n 30 "$TEST_TMPDIR/devsieved.log")"
}

# wait_in_container TEST: polls TEST inside the container until it holds
# (30 s: sanitizer builds on a loaded machine); prints how long that took
# in microseconds.
wait_in_container() {
        local out
        out=$(in_container 'start=${EPOCHREALTIME/./}; end=$((start + 30000000))
                while ! '"$1"'; do (( ${EPOCHREALTIME/./} < end )) || exit 1; done
                echo $(( ${EPOCHREALTIME/./} - start ))') || {
                daemon_alive
                fail "'$1' did not come true in the container within 30 s"
        }
        echo "$out"
}

# devsieved makes the view before it attaches the container: until then
# its entries belong to host ids the container cannot name (nobody).
wait_in_container '[[ -c /dev/null && $(stat -c %u:%g /dev /dev/null | sort -u) == 0:0 ]]' >/dev/null
daemon_alive
# The view answers from its creation on, but its owners are the
# container's only once --attach is done, which "Serving" follows (seen
# under load: the first listing caught the view between the two).
for _ in {1..600}; do grep -q 'Serving;' "$TEST_TMPDIR/devsieved.log" && break; sleep 0.05; done
grep -q 'Serving;' "$TEST_TMPDIR/devsieved.log" || fail "devsieved did not finish starting within 30 s"

# The listing as "mode owner group name [-> target]" lines.
listing() {
        in_container "ls -l --time-style=+T ${1:-/dev}" | awk 'NR > 1 {
                out = $1 " " $3 " " $4
                for (i = 5; i <= NF && $i != "T"; i++) ;
                for (i++; i <= NF; i++) out = out " " $i
                print out }'
}

# What the view must hold with the host's loop and zram devices as they
# are now (none of them is backed by hidden.img).
expected_root() {
        local d
        {
                echo "drwxr-xr-x root root block"
                echo "drwxr-xr-x root root char"
                echo "drwxr-xr-x root root disk"
                echo "lrwxrwxrwx root root fd -> /proc/self/fd"
                echo "lrwxrwxrwx root root fullalias -> misc/deep/full"
                for d in /sys/class/block/loop$LB[0-9][0-9]; do
                        [[ -e $d ]] && echo "brw-rw---- root disk ${d##*/}"
                done
                echo "drwxr-xr-x root root misc"
                echo "drwxrwxrwt root root mqueue"
                echo "crw-rw-rw- root root null"
                echo "lrwxrwxrwx root root ptmx -> pts/ptmx"
                echo "drwxr-xr-x root root pts"
                echo "crw-rw-rw- root root random"
                echo "drwxrwxrwt root root shm"
                echo "lrwxrwxrwx root root stderr -> /proc/self/fd/2"
                echo "lrwxrwxrwx root root stdin -> /proc/self/fd/0"
                echo "lrwxrwxrwx root root stdout -> /proc/self/fd/1"
                echo "crw-rw-rw- root root tty"
                echo "crw-rw-rw- root root urandom"
                echo "crw-rw-rw- root root zero"
                # zram devices: those of other tests come and go
                # (sorted_listing leaves them out); this test's own are
                # checked on their own.
        } | sort -k4
}

sorted_listing() {
        listing "$@" | grep -Ev ' zram[0-9]+$' | sort -k4
}

# --- The listing, owners and modes ---------------------------------------
assert_eq "$(expected_root)" "$(sorted_listing)" "ls -l /dev"
assert_eq "crw-r----- root tty full" "$(listing /dev/misc/deep)" "ls -l /dev/misc/deep"
assert_eq "lrwxrwxrwx root root full -> ../../misc/deep/full" "$(listing /dev/disk/by-x)" "ls -l /dev/disk/by-x"
assert_match "$(listing /dev/char)" "^lrwxrwxrwx root root 1:7 -> \.\./misc/deep/full$" "ls -l /dev/char"
assert_match "$(listing /dev/char)" "^lrwxrwxrwx root root 1:3 -> \.\./null$" "ls -l /dev/char"
assert_eq "$(listing /dev/char | wc -l)" 6 "entries in /dev/char"
assert_match "$(listing /dev/block)" "^lrwxrwxrwx root root 7:${STATIC_LOOP#loop} -> \.\./$STATIC_LOOP$" "ls -l /dev/block"
assert_eq "00000000000000000000000000000000" "$(in_container 'head -c 16 /dev/zero | od -An -tx1 | tr -d " \n"')" \
        "head -c 16 /dev/zero"
assert_eq "" "$(in_container 'echo hi >/dev/null; cat /dev/null')" "/dev/null"
assert_eq "0" "$(in_container 'stat -c %u /dev')" "owner of /dev"
assert_match "$(grep " $VIEW " /proc/mounts)" "fuse.devsieve rw,nosuid,.*default_permissions,allow_other" "mount options"
assert_not_contains "$(grep " $VIEW " /proc/mounts)" "nodev" "mount options"

# --- A hidden device cannot be reached by any name -----------------------
# /dev/kmsg (char 1:11) is not allowed: every way to it must answer as for
# a name that never existed.
never=$(in_container 'stat /dev/never-existed 2>&1 | sed "s/.never-existed//"')
assert_eq "$never" "$(in_container 'stat /dev/kmsg 2>&1 | sed "s/.kmsg//"')" "stat /dev/kmsg"
assert_exit 1 in_container 'test -e /dev/char/1:11'
assert_exit 1 in_container 'ls /dev /dev/char /dev/block | grep -q -e kmsg -e "^1:11$" -e "^254:"'
assert_exit 1 in_container 'ls -lR /dev | grep -q -e "1, 11" -e kmsg'
assert_exit 1 in_container 'mknod /dev/k c 1 11'
assert_contains "$ERR" "Operation not permitted"
# Host root passes the kernel's CAP_MKNOD check: the view itself refuses.
assert_exit 1 mknod "$VIEW/k" c 1 11
assert_contains "$ERR" "Operation not permitted"
assert_exit 1 mknod "$VIEW/vda" b "$((0x$(stat -c %t /dev/vda)))" "$((0x$(stat -c %T /dev/vda)))"
assert_contains "$ERR" "Operation not permitted"
# A visible device without the m right cannot be made either.
assert_exit 1 mknod "$VIEW/n2" c 1 3
# Extended attributes say the same for every node.
xattrs=$(in_container '/usr/bin/python3 -c "
import os
for p in [\"/dev/null\", \"/dev/char/1:3\", \"/dev\", \"/dev/kmsg\", \"/dev/char/1:11\"]:
    try: os.getxattr(p, \"user.x\", follow_symlinks=False); print(p, \"data\")
    except OSError as e: print(p, os.strerror(e.errno))
"')
assert_eq "/dev/null No data available
/dev/char/1:3 No data available
/dev Operation not supported
/dev/kmsg No such file or directory
/dev/char/1:11 No such file or directory" "$xattrs" "getxattr"

# --- The container's own entries ------------------------------------------
in_container '/usr/bin/python3 -c "
import socket
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(\"/dev/log\")
c = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
c.sendto(b\"hello\", \"/dev/log\")
assert s.recv(16) == b\"hello\"
"' || fail "a socket at /dev/log does not work"
assert_match "$(listing)" "^srwxr-xr-x root root log$" "ls -l /dev"
in_container 'set -e
        printf "one\n" >/dev/file; printf "two\n" >>/dev/file
        mkdir -p /dev/dir/sub; mv /dev/file /dev/dir/sub/moved
        mkfifo /dev/fifo; ln -s dir/sub/moved /dev/link
        chmod 600 /dev/fifo; chown 7:7 /dev/fifo
        touch -d "2020-01-02 03:04:05" /dev/dir' || fail "making entries in /dev failed"
assert_eq "one
two" "$(in_container 'cat /dev/link')" "a file in /dev"
assert_eq "prw------- lp lp fifo" "$(listing | grep ' fifo$')" "a fifo"
assert_eq "2020-01-02" "$(in_container 'stat -c %y /dev/dir' | cut -c1-10)" "utimens"
in_container ': >/dev/dir/sub/moved' && assert_eq 0 "$(in_container 'stat -c %s /dev/dir/sub/moved')" "truncated"
assert_exit 1 in_container 'rmdir /dev/dir'
in_container 'rm -r /dev/dir /dev/link /dev/fifo /dev/log' || fail "removing the container's entries failed"
# What the container makes is bounded and counted: names longer than
# NAME_MAX are refused; names and symlink targets count against the view's
# memory (64 MiB), which statvfs reports.
in_container '/usr/bin/python3 -c "
import errno, os
def err(f, *a):
    try:
        f(*a)
        return \"ok\"
    except OSError as e:
        return errno.errorcode[e.errno]
print(\"long\", err(os.symlink, \"x\", \"/dev/\" + \"n\" * 300))
free0 = os.statvfs(\"/dev\").f_bfree
os.mkdir(\"/dev/many\")
n, last = 0, \"ok\"
while n < 20000 and last == \"ok\":
    last = err(os.symlink, \"t\" * 4000, \"/dev/many/%d\" % n)
    n += last == \"ok\"
free1 = os.statvfs(\"/dev\").f_bfree
print(\"stopped\", last, \"bounded\" if n < 20000 else n)
print(\"counted\", free0 - free1 >= n * 4000 // 4096)
for i in range(n):
    os.unlink(\"/dev/many/%d\" % i)
os.rmdir(\"/dev/many\")
print(\"free0\", free0)
"' >"$TEST_TMPDIR/bounds.out" 2>&1 || fail "the bounds check failed: $(cat "$TEST_TMPDIR/bounds.out")"
assert_eq "long ENAMETOOLONG
stopped ENOSPC bounded
counted True" "$(head -3 "$TEST_TMPDIR/bounds.out")" "entries beyond the view's bounds"
# Every open directory's listing counts too: a container that opens a
# large directory many times (changing it between, so that the kernel
# cannot answer from its cache) is refused before the daemon holds more
# than the view's memory, and gets it back when it closes them.
in_container '/usr/bin/python3 -c "
import errno, os
os.mkdir(\"/dev/wide\")
for i in range(1000):
    os.symlink(\"x\", \"/dev/wide/%04d\" % i + \"w\" * 251)
fds, got = [], \"ok\"
while len(fds) < 400 and got == \"ok\":
    fds.append(os.open(\"/dev/wide\", os.O_RDONLY | os.O_DIRECTORY))
    os.symlink(\"x\", \"/dev/wide/churn\")
    os.unlink(\"/dev/wide/churn\")
    try:
        os.listdir(fds[-1])
    except OSError as e:
        got = errno.errorcode[e.errno]
print(\"handles\", got, \"bounded\" if len(fds) < 400 else len(fds))
for fd in fds:
    os.close(fd)
print(\"after\", len(os.listdir(\"/dev/wide\")))
for name in os.listdir(\"/dev/wide\"):
    os.unlink(\"/dev/wide/\" + name)
os.rmdir(\"/dev/wide\")
"' >>"$TEST_TMPDIR/bounds.out" 2>&1 || fail "the listing bounds check failed: $(cat "$TEST_TMPDIR/bounds.out")"
assert_eq "handles ENOMEM bounded
after 1000" "$(tail -2 "$TEST_TMPDIR/bounds.out")" "open listings beyond the view's bounds"
# Given back once the kernel forgets the entries.
free0=$(sed -n 's/^free0 //p' "$TEST_TMPDIR/bounds.out")
wait_until "the entries' memory to be given back" sh -c \
        "[ \"\$(nsenter -t $CPID -U -m stat -f -c %f /dev)\" -ge $free0 ]"
# Devices and what the daemon made cannot be changed or moved...
assert_exit 1 in_container 'chmod 600 /dev/null'
assert_exit 1 in_container 'mv /dev/zero /dev/zero2'
assert_exit 1 in_container 'ln -sf x /dev/null.tmp && mv -T /dev/null.tmp /dev/null'
in_container 'rm -f /dev/null.tmp'
# ...but a container may unlink a device node: gone until the next delta.
in_container 'rm /dev/random' || fail "rm /dev/random"
assert_exit 1 in_container 'test -e /dev/random'
# The runtime mounts over the skeleton's directories; the container can
# get a pty through the view's ptmx link.
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts "$VIEW/pts"
defer "umount -l '$VIEW/pts' 2>/dev/null || true"
assert_match "$(in_container 'script -qc tty /dev/null')" "^/dev/pts/[0-9]+" "a tty from script"

# --- mknod of an allowed device -------------------------------------------
# Inside a user namespace the kernel itself refuses mknod of char/block
# nodes (CAP_MKNOD in the initial namespace): the view's decision shows
# from the host's side.
assert_exit 1 in_container 'mknod /dev/myzero c 1 5'
mknod "$VIEW/myzero" c 1 5 || fail "mknod of an allowed device"
assert_eq "crw-rw-rw- root root myzero" "$(listing | grep ' myzero$')" "the policy's attributes for mknod"
assert_exit 1 chmod 0600 "$VIEW/myzero"
assert_eq "0000" "$(in_container 'head -c 2 /dev/myzero | od -An -tx1 | tr -d " \n"')" "reading /dev/myzero"
rm "$VIEW/myzero"

# --- Hot-plug --------------------------------------------------------------
# A poller already inside the container notes when the loop device
# shows up. Not through in_container: $! must be the poller itself.
n=$((LB * 100))
dev=/dev/loop$n
nsenter -t "$CPID" -U -m -- bash -c 'end=$(( ${EPOCHREALTIME/./} + 30000000 ))
        while [[ ! -b /dev/loop'$n' ]]; do (( ${EPOCHREALTIME/./} < end )) || exit 1; done
        echo ${EPOCHREALTIME/./}' >"$TEST_TMPDIR/seen" &
poller=$!
defer 'if [[ -n $poller ]]; then kill "$poller" 2>/dev/null; wait "$poller" 2>/dev/null; fi; true'
sleep 0.2
t0=${EPOCHREALTIME/./}
my_loop_add 0
t1=${EPOCHREALTIME/./}
wait "$poller" || { poller=; fail "no loop device appeared in the container within 30 s"; }
poller=
# LOOP_CTL_ADD itself takes 15-100 ms here, and its uevent may be out
# before it returns: what counts is the time after its return.
latency=$(( $(<"$TEST_TMPDIR/seen") - t1 ))
(( latency > 0 )) || latency=0
log "loop$n appeared in the container $((latency / 1000)).$((latency % 1000 / 100)) ms after LOOP_CTL_ADD returned" \
        "(the ioctl took $(( (t1 - t0) / 1000 )) ms)"
(( latency < 500000 )) || fail "loop$n took $latency us to appear"
wait_in_container "[[ -b /dev/loop$n && -L /dev/block/7:$n ]]" >/dev/null
assert_eq "brw-rw---- root disk loop$n" "$(listing | grep " loop$n\$")" "the new loop device"
assert_eq "lrwxrwxrwx root root 7:$n -> ../loop$n" "$(listing /dev/block | grep " 7:$n ")" "its block/ link"
# Backed by the hidden image it is hidden: by every name.
truncate -s 1M "$TEST_TMPDIR/hidden.img"
losetup "$dev" "$TEST_TMPDIR/hidden.img"
defer "losetup -d '$dev' 2>/dev/null || true"
wait_in_container "[[ ! -e /dev/loop$n && ! -e /dev/block/7:$n ]]" >/dev/null
assert_not_contains "$(in_container 'ls /dev /dev/block')" "loop$n" "ls /dev /dev/block"
assert_not_contains "$(in_container 'ls /dev/block')" "7:$n" "ls /dev/block"
assert_eq "$never" "$(in_container "stat /dev/loop$n 2>&1 | sed 's/.loop$n//'")" "stat of the hidden loop$n"
assert_exit 1 mknod "$VIEW/l" b 7 "$n"
losetup -d "$dev"
wait_in_container "[[ -b /dev/loop$n ]]" >/dev/null
"$LOOPCTL" remove "$n"
wait_in_container "[[ ! -e /dev/loop$n && ! -e /dev/block/7:$n ]]" >/dev/null

t0=${EPOCHREALTIME/./}
z=$(cat /sys/class/zram-control/hot_add)
defer "if [[ -e /sys/block/zram$z ]]; then echo $z >/sys/class/zram-control/hot_remove; fi"
wait_in_container "[[ -b /dev/zram$z ]]" >/dev/null
log "zram$z appeared in the container $(( (${EPOCHREALTIME/./} - t0) / 1000 )) ms after hot_add"
assert_eq "brw-r----- root disk zram$z" "$(listing | grep " zram$z\$")" "the new zram device"
echo "$z" >/sys/class/zram-control/hot_remove
wait_in_container "[[ ! -e /dev/zram$z && ! -e /dev/block/253:$z ]]" >/dev/null

# --- Many readers while 20 loop devices come and go ------------------------
in_container 'stat /dev/random' >/dev/null 2>&1 && fail "/dev/random came back without a delta"
# The readers run while $RUNNING exists: in /tmp, which the container
# sees (TEST_TMPDIR is closed to it).
RUNNING=/tmp/devsieve-test-devfs-readers.$$
touch "$RUNNING"
# ls -lR may find a name gone between readdir and lstat (our loop devices,
# or the zram devices of tests running meanwhile); nothing else. A reader
# that meets anything else exits with 1 at once and shows it.
GONE="cannot (access|read symbolic link) '/dev/(block/(7|253):[0-9]+|loop[0-9]+|zram[0-9]+)': No such file or directory"
readers=()
for i in 1 2 3; do
        nsenter -t "$CPID" -U -m -- bash -c 'while [[ -e '"$RUNNING"' ]]; do
                if ! errors=$(ls -lR /dev 2>&1 >/dev/null); then
                        grep -Ev -- "$1" <<<"$errors" >&2 && exit 1
                fi
                echo round
        done' ls-reader "$GONE" >"$TEST_TMPDIR/ls$i.out" 2>"$TEST_TMPDIR/ls$i.err" &
        readers+=($!)
        nsenter -t "$CPID" -U -m -- bash -c 'while [[ -e '"$RUNNING"' ]]; do
                stat /dev/null /dev/zero /dev/char/1:3 /dev/misc/deep/full >/dev/null || exit 1; echo round; done' \
                >"$TEST_TMPDIR/stat$i.out" 2>"$TEST_TMPDIR/stat$i.err" &
        readers+=($!)
done
defer "rm -f '$RUNNING'; kill ${readers[*]} 2>/dev/null || true"
added=()
for i in {1..20}; do
        my_loop_add "$i"
        added+=("$((LB * 100 + i))")
done
for n in "${added[@]}"; do
        wait_in_container "[[ -b /dev/loop$n && -L /dev/block/7:$n ]]" >/dev/null
done
for n in "${added[@]}"; do
        "$LOOPCTL" remove "$n"
done
for n in "${added[@]}"; do
        wait_in_container "[[ ! -e /dev/loop$n && ! -e /dev/block/7:$n ]]" >/dev/null
done
rm "$RUNNING"
for pid in "${readers[@]}"; do
        wait "$pid" || fail "a reader failed: $(cat "$TEST_TMPDIR"/*.err)"
done
for f in "$TEST_TMPDIR"/ls?.out "$TEST_TMPDIR"/stat?.out; do
        (( $(wc -l <"$f") >= 2 )) || fail "a reader ($f) did not run during the hot-plug"
done
log "readers: $(cat "$TEST_TMPDIR"/ls?.out | wc -l) ls -lR and $(cat "$TEST_TMPDIR"/stat?.out | wc -l) stat rounds"
errors=$(cat "$TEST_TMPDIR"/ls*.err "$TEST_TMPDIR"/stat*.err | grep -Ev -- "$GONE" || true)
assert_eq "" "$errors" "errors of the readers"
daemon_alive
# random comes back only with a delta about it; pts is devpts now; the
# rest is exact.
assert_eq "$(expected_root | grep -v ' random$' | grep -v ' pts$')" "$(sorted_listing | grep -v ' pts$')" \
        "ls -l /dev after hot-plug"
assert_eq "$(expected_root | grep -c '^b')" "$(listing /dev/block | grep -cv -e '-> ../zram[0-9]')" \
        "entries in /dev/block"

# --- A policy reload changes modes; mounts over the view stay -------------
# What a runtime does: mounts over the skeleton's directories and binds
# over nodes. An attribute change must reach the container without
# detaching any of that.
mount -t tmpfs -o size=1M tmpfs "$VIEW/shm"
defer "umount -l '$VIEW/shm' 2>/dev/null || true"
mount --bind /dev/null "$VIEW/tty"
defer "umount -l '$VIEW/tty' 2>/dev/null || true"
assert_eq "crw-rw-rw-" "$(in_container 'stat -c %A /dev/urandom')" "urandom before the reload"
assert_eq "tmpfs" "$(in_container 'stat -f -c %T /dev/shm')" "/dev/shm in the container"
cat >>"$TEST_TMPDIR/c.rules" <<'RULES'
allow SUBSYSTEM=="mem", KERNEL=="urandom", TYPE=="char", MODE="0644"
allow SUBSYSTEM=="tty", KERNEL=="tty", TYPE=="char", MODE="0600"
RULES
kill -HUP "$D_PID"
wait_in_container '[[ $(stat -c %A /dev/urandom) == crw-r--r-- ]]' >/dev/null
for m in shm pts tty; do
        grep -q " $VIEW/$m " /proc/mounts || fail "the mount over $VIEW/$m is gone after the reload"
done
umount "$VIEW/tty"
assert_eq "crw------- root root tty" "$(listing | grep ' tty$')" "tty after the reload"
assert_eq "tmpfs" "$(in_container 'stat -f -c %T /dev/shm')" "/dev/shm in the container after the reload"
assert_eq "devpts" "$(in_container 'stat -f -c %T /dev/pts')" "/dev/pts in the container after the reload"

# --- Teardown ----------------------------------------------------------------
kill "$D_PID"
wait "$D_PID" || fail "devsieved exited with $?:"$'\n'"$(tail -n 30 "$TEST_TMPDIR/devsieved.log")"
grep -q " $VIEW " /proc/mounts && fail "the view is still mounted after devsieved exited"
assert_not_contains "$(cat "$TEST_TMPDIR/devsieved.log")" "<3>" "devsieved's log"
true
