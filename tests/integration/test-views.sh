#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Every container's views are served from one FUSE connection per kind
# (/dev, /sys), each view a bind mount of its own directory there: the
# connections' roots list nothing and sit in a private 0700 mount; one
# container's view shows nothing of another's, a rename between two views
# through the connection's root fails with EXDEV, a destroyed view answers
# ENOTCONN to a descriptor still open on it and is gone from the root; more
# containers than libfuse's pthread keys would allow with a session each
# (512) are created and destroyed without leaving a mount behind; stopping
# the daemon unmounts everything.
source "$SOURCE_ROOT/tests/integration/lib.sh"

command -v python3 >/dev/null || fail "this test needs python3 (raw socket requests)"

RT=$TEST_TMPDIR/run
export DEVSIEVE_RUNTIME_DIR=$RT
daemon_start "$RT" --log-level info
# Only this daemon's: other tests mount elsewhere meanwhile.
mounts() { grep -c " $RT/" "/proc/$DAEMON_PID/mountinfo" || true; }
# The connections are mounted in devsieved's own mount namespace only.
in_daemon() { nsenter -t "$DAEMON_PID" -m -- "$@"; }
# slot VIEW: the directory of the connection a view is bound from.
slot() { awk -v m="$1" '$5 == m { print substr($4, 2) }' "/proc/$DAEMON_PID/mountinfo"; }

# --- The connections ------------------------------------------------------
log "connections"
assert_eq "drwx------" "$(stat -c %A "$RT/views")" "the views directory's mode"
for k in dev sys; do
        line=$(awk -v m="$RT/views/$k" '$5 == m' "/proc/$DAEMON_PID/mountinfo")
        assert_match "$line" " - fuse.devsieve devsieve-$k " "the $k connection's mount"
        # Private: no peer group, so the containers' views are not copied
        # into every namespace the runtime directory propagates to.
        assert_not_contains "$line" "shared:" "the $k connection's mount"
        assert_eq "" "$(in_daemon ls -A "$RT/views/$k")" "the $k connection's root listing"
done
assert_not_contains "$(cat /proc/self/mountinfo)" " $RT/views" "the host's mount table"
mounts0=$(mounts)

# --- Two containers, one connection ---------------------------------------
log "two containers"
assert_exit 0 "$DEVSIEVE" create a --policy oci-default --relay none
assert_exit 0 "$DEVSIEVE" create b --policy oci-default --relay none
A=$RT/containers/a/dev
B=$RT/containers/b/dev
sa=$(slot "$A")
sb=$(slot "$B")
[[ -n $sa && -n $sb && $sa != "$sb" ]] || fail "a's and b's /dev views are not two directories of one connection ('$sa', '$sb')"
[[ -n $(slot "$RT/containers/a/sys") ]] || fail "a's /sys view is not a directory of the /sys connection"
assert_eq "" "$(in_daemon ls -A "$RT/views/dev")" "the /dev connection's root listing with two views"
# A first listing carries every entry's attributes (READDIRPLUS).
listing=$(ls -l "$B")
assert_match "$listing" "^crw-rw-rw- 1 root root +1, +3 .* null$" "b's /dev listing"
assert_match "$listing" "^lrwxrwxrwx 1 root root .* ptmx -> pts/ptmx$" "b's /dev listing"
assert_match "$listing" "^drwxrwxrwt 2 root root .* shm$" "b's /dev listing"
[[ -c $A/null && -c $B/null ]] || fail "/dev/null is missing in a view"

echo hello >"$A/only-a"
[[ -e $A/only-a ]] || fail "a's own file is not in its /dev"
[[ ! -e $B/only-a ]] || fail "a's own file shows in b's /dev"
assert_eq "$(stat -c %i "$RT/containers/a")" "$(stat -c %i "$A/..")" "'..' of a's view (its mountpoint's parent)"
[[ $(stat -c %i "$A") != "$(stat -c %i "$B")" ]] || fail "a's and b's view roots have one inode number"

# Through the connection's root both views are on one mount: only the
# daemon keeps them apart.
in_daemon python3 - "$RT/views/dev/$sa/only-a" "$RT/views/dev/$sb/stolen" <<'PY' ||
        fail "a rename between two views did not fail with EXDEV"
import errno, os, sys
try:
    os.rename(sys.argv[1], sys.argv[2])
except OSError as e:
    sys.exit(0 if e.errno == errno.EXDEV else "rename: " + str(e))
sys.exit("rename between two views succeeded")
PY
[[ -e $A/only-a && ! -e $B/stolen ]] || fail "the refused rename changed a view"

# A descriptor held on a destroyed view (as a container's copy of the
# mount would be) gets ENOTCONN; its directory in the root is gone.
python3 - "$A" "$DEVSIEVE" <<'PY' || fail "a destroyed view still answers"
import errno, os, subprocess, sys
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECTORY)
assert "null" in os.listdir(fd)
subprocess.run([sys.argv[2], "destroy", "a"], check=True)
try:
    os.listdir(fd)
except OSError as e:
    sys.exit(0 if e.errno == errno.ENOTCONN else "listing the destroyed view: " + str(e))
sys.exit("the destroyed view still lists its entries")
PY
in_daemon test ! -e "$RT/views/dev/$sa" || fail "the destroyed view's directory is still in the connection's root"
[[ -c $B/null ]] || fail "b lost its /dev/null when a was destroyed"
assert_exit 0 "$DEVSIEVE" destroy b

# --- Beyond 512 containers --------------------------------------------------
log "520 containers"
N=520
python3 - "$RT/devsieved.sock" "$N" <<'PY' || fail "creating $N containers failed"
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
f = s.makefile('rwb')
for i in range(1, int(sys.argv[2]) + 1):
    f.write(b'{"command":"create","name":"many%d","policy":"oci-default","relay":"none"}\n' % i)
    f.flush()
    reply = f.readline()
    if b'"ok":true' not in reply:
        sys.exit("create many%d: %s" % (i, reply.decode().strip()))
PY
[[ -c $RT/containers/many$N/dev/null ]] || fail "container $N has no /dev/null"
[[ -d $RT/containers/many$N/sys/class ]] || fail "container $N has no /sys/class"
assert_exit 0 "$DEVSIEVE" status
assert_contains "$OUT" "containers:        $N"
python3 - "$RT/devsieved.sock" "$N" <<'PY' || fail "destroying $N containers failed"
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
f = s.makefile('rwb')
for i in range(1, int(sys.argv[2]) + 1):
    f.write(b'{"command":"destroy","name":"many%d"}\n' % i)
    f.flush()
    reply = f.readline()
    if b'"ok":true' not in reply:
        sys.exit("destroy many%d: %s" % (i, reply.decode().strip()))
PY
assert_eq "$mounts0" "$(mounts)" "the daemon's mounts after destroying every container"

# --- Shutdown ---------------------------------------------------------------
log "shutdown"
daemon_stop "$DAEMON_PID" "$RT.log" || fail "devsieved did not stop cleanly"
wait_until "the views' mounts to go" sh -c "! grep -q ' $RT/' /proc/self/mountinfo"
assert_not_contains "$(cat "$RT.log")" "<3>" "devsieved's log"
log "ok"
