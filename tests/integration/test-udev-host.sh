#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# With a udevd on the host, the container's udev database and udev events
# carry what the host's udev found (ID_FS_TYPE of an ext4 loop device, a
# tag), never the host's own links. The test's udevd runs in a mount
# namespace of its own with a private tmpfs at /run (the host's /run is
# untouched), with only this test's rules; devsieved runs in that
# namespace too, so it sees the udevd's /run/udev, and a container made
# there (its own user and network namespaces) listens to udev events.
source "$SOURCE_ROOT/tests/integration/lib.sh"

UDEVD=/lib/systemd/systemd-udevd
[[ -x $UDEVD ]] || skip "no $UDEVD (apt-get install udev)"
command -v mkfs.ext4 >/dev/null || skip "no mkfs.ext4 (apt-get install e2fsprogs)"
need_env NS_RUN UEVENT_LISTEN

# loop_add_free VAR: like lib.sh's loop_add, at a random index far from the
# lowest free one: that is what every other test running on this machine
# takes next, and an index this test frees could come back as someone
# else's device before lib.sh checks for leftovers.
loop_add_free() {
        local -n __loop_add_free_ret=$1
        local i
        for _ in {1..50}; do
                i=$((20000 + RANDOM % 40000))
                [[ -e /sys/block/loop$i ]] && continue
                "$LOOPCTL" add "$i" >/dev/null 2>&1 || continue
                loop_own "$i"
                __loop_add_free_ret=/dev/loop$i
                return 0
        done
        fail "no free loop index found"
}

T=$TEST_TMPDIR
chmod 0755 "$T"
mkdir -m 0777 "$T/shared"
RT=$T/run

# wait_for FILE REGEX [WHAT]: until FILE has a line matching REGEX (30 s).
wait_for() {
        for _ in {1..600}; do
                grep -Eq -- "$2" "$1" 2>/dev/null && return 0
                sleep 0.05
        done
        fail "${3:-$1} has no line matching /$2/ after 30 s:"$'\n'"$(cat "$1" 2>/dev/null)"
}

# The host udevd makes links in the host's /dev (a devtmpfs every mount
# namespace shares): the test's rule names a link of its own, removed at
# exit, and touches only this test's device; /dev/block and /dev/char
# links it makes for any device while it runs go too.
link=devsieve-test-$$
truncate -s 8M "$T/fs.img"
mkfs.ext4 -q -F "$T/fs.img" || fail "mkfs.ext4 failed"
mkdir "$T/rules" "$T/empty"
cat >"$T/rules/90-devsieve-test.rules" <<RULES
SUBSYSTEM=="block", KERNEL=="loop*", ATTR{loop/backing_file}=="$T/fs.img", IMPORT{builtin}="blkid", SYMLINK+="$link", TAG+="devsieve_test"
RULES
before_links=$(ls /dev/block /dev/char 2>/dev/null | sort | xargs || true)
cleanup_links() {
        local d f
        rm -f "/dev/$link"
        for d in block char; do
                for f in /dev/$d/*; do
                        [[ -L $f ]] || continue
                        [[ " $before_links " == *" ${f##*/} "* ]] || rm -f "$f"
                done
        done
        # Directories udevd made that hold nothing now.
        rmdir /dev/block /dev/char 2>/dev/null || true
}
defer cleanup_links

# udevd's own namespace: a private /run with /run/udev, the system's rules
# hidden, only ours. exec keeps $! the udevd itself.
unshare -m --propagation private sh -c "
        mount -t tmpfs devsieve-test /run && mkdir -p /run/udev/rules.d &&
        cp '$T/rules/90-devsieve-test.rules' /run/udev/rules.d/ &&
        for d in /usr/lib/udev/rules.d /etc/udev/rules.d; do [ -d \$d ] && mount --bind '$T/empty' \$d; done &&
        exec $UDEVD" >"$T/udevd.log" 2>&1 &
UDEVD_PID=$!
defer "kill $UDEVD_PID 2>/dev/null; wait $UDEVD_PID 2>/dev/null; true"
wait_until "udevd's control socket" nsenter -t "$UDEVD_PID" -m test -S /run/udev/control

# devsieved in udevd's mount namespace.
cat >"$T/devsieved" <<SH
#!/bin/sh
exec nsenter -t $UDEVD_PID -m -- "$DEVSIEVED" "\$@"
SH
chmod 0755 "$T/devsieved"
DEVSIEVED=$T/devsieved daemon_start "$RT"
assert_contains "$(cat "$RT.log")" 'following udev events' "the daemon's log (it follows udevd)"

cat >"$T/host.rules" <<RULES
allow SUBSYSTEM=="block", KERNEL=="loop*", ATTR{loop/backing_file}=="$T/fs.img", NAME="data0", SYMLINK+="disk/by-label/data"
RULES
nsenter -t "$UDEVD_PID" -m -- "$NS_RUN" --net --pidfile "$T/c.pid" -- sleep 300 &
defer "kill $! 2>/dev/null; wait $! 2>/dev/null; true"
wait_until "the container" test -s "$T/c.pid"
pid=$(<"$T/c.pid")
"$DEVSIEVE" --runtime-dir "$RT" create hostudev --policy "$T/host.rules" --pid "$pid" >/dev/null ||
        fail "devsieve create failed"
nsenter -t "$pid" -U -m -n "$UEVENT_LISTEN" --udev --timeout 300 --ready "$T/shared/c.ready" \
        >"$T/c.events" 2>"$T/c.err" &
defer "kill $! 2>/dev/null; wait $! 2>/dev/null; true"
wait_until "the container's listener" test -e "$T/shared/c.ready"

loop_add_free DEV
losetup "$DEV" "$T/fs.img"
defer "losetup -d $DEV"
dev=${DEV#/dev/}
id=b7:${dev#loop}
DB=$RT/containers/hostudev/udev

wait_for "$T/c.events" "^(add|change) /devices/virtual/block/$dev .*ID_FS_TYPE=ext4" "the container's udev events"
ev=$(grep -E "^(add|change) /devices/virtual/block/$dev .*ID_FS_TYPE=ext4" "$T/c.events" | tail -n 1)
log "the container heard:"$'\n'"$ev"
assert_contains "$ev " " DEVNAME=/dev/data0 " "the udev event"
assert_contains "$ev " " DEVLINKS=/dev/disk/by-label/data " "the udev event"
assert_contains "$ev " " TAGS=:devsieve_test: " "the udev event"
assert_match "$ev" ' USEC_INITIALIZED=[0-9]+' "the udev event"
assert_not_contains "$ev" "$link" "the udev event (the host's link)"
assert_not_contains "$ev" "DEVNAME=/dev/$dev " "the udev event (the host's name)"

# The database is a tmpfs the daemon mounted in its (udevd's) namespace.
indb() { nsenter -t "$UDEVD_PID" -m -- "$@"; }
wait_until "the udev data of $dev" indb grep -q '^E:ID_FS_TYPE=ext4$' "$DB/data/$id"
data=$(indb cat "$DB/data/$id")
log "the container's data/$id:"$'\n'"$data"
assert_match "$data" '^S:disk/by-label/data$' "data/$id"
assert_match "$data" '^G:devsieve_test$' "data/$id"
assert_match "$data" '^I:[0-9]+$' "data/$id"
assert_not_contains "$data" "$link" "data/$id (the host's link)"
indb test -e "$DB/tags/devsieve_test/$id" || fail "no tags/devsieve_test/$id: $(indb ls -R "$DB/tags")"
