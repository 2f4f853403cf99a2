# SPDX-License-Identifier: GPL-2.0-only
# Sourced by stage2.sh: the test's units in the guest's /etc/systemd/system.
#
#   cgfw-test.target        systemd.unit= of both boots: basic.target (so
#                           sysinit.target, where cgfw-restore.service is), the
#                           two services, the driver, the power-off
#   cgfw-demo.service       the workload: service.sh; its drop-in cgfw.conf is
#                           the installed cgfw-enforce.conf.example, verbatim
#   cgfw-control.service    the same program and a workload of the same policy,
#                           without the drop-in; after cgfw-demo.service, so the
#                           demo's `cgfw restore` cannot enforce it by chance
#   cgfw-test-driver.service  driver.sh PHASE: boot 1 applies the policy, boot
#                           2 records what the host checks
#   cgfw-test-done.service  marks the boot done and powers off, whatever the
#                           driver did
#
# write_units PHASE RECORD_DIR

write_units() {
	local phase=$1 rec=$2 lib=/usr/local/libexec/cgfw-test d=/etc/systemd/system ex
	mkdir -p "$lib" "$d/cgfw-demo.service.d"
	install -m 755 "$HERE/service.sh" "$lib/service.sh" || return 1
	install -m 755 "$HERE/driver.sh" "$lib/driver.sh" || return 1

	# The drop-in exactly as installed (configured for the prefix /usr);
	# run.sh --break dropin leaves it out of boot 2 (the checks must fail).
	ex=/usr/share/doc/cgfw/cgfw-enforce.conf.example
	[ -f "$ex" ] || { echo "units.sh: $ex is not installed"; return 1; }
	if [ "$phase" = 2 ] && [[ "${BREAK:-}" == *" dropin "* ]]; then
		echo "units.sh: BREAK: cgfw-demo.service without the drop-in"
	else
		cp "$ex" "$d/cgfw-demo.service.d/cgfw.conf" || return 1
	fi

	cat >"$d/cgfw-test.target" <<EOF
[Unit]
Description=cgfw systemd boot test, boot $phase
Requires=basic.target
After=basic.target
Wants=cgfw-test-driver.service cgfw-test-done.service
AllowIsolate=yes
# A boot that never gets here ends instead of waiting for the host's timeout.
JobTimeoutSec=540
JobTimeoutAction=poweroff-force
EOF

	cat >"$d/cgfw-demo.service" <<EOF
[Unit]
Description=cgfw test workload (with the cgfw-enforce drop-in)

[Service]
Type=exec
ExecStart=$lib/service.sh demo

[Install]
WantedBy=cgfw-test.target
EOF

	cat >"$d/cgfw-control.service" <<EOF
[Unit]
Description=cgfw test workload (control: no drop-in)
After=cgfw-demo.service

[Service]
Type=exec
ExecStart=$lib/service.sh control

[Install]
WantedBy=cgfw-test.target
EOF

	cat >"$d/cgfw-test-driver.service" <<EOF
[Unit]
Description=cgfw systemd boot test driver, boot $phase
After=basic.target cgfw-demo.service cgfw-control.service

[Service]
Type=oneshot
ExecStart=$lib/driver.sh $phase $rec
TimeoutStartSec=420
StandardOutput=journal+console
StandardError=journal+console
EOF

	cat >"$d/cgfw-test-done.service" <<EOF
[Unit]
Description=cgfw systemd boot test: power off
After=cgfw-test-driver.service

[Service]
Type=oneshot
ExecStart=/bin/sh -c 'cut -d" " -f1 /proc/uptime >$rec/done; sync'
ExecStart=/bin/systemctl --no-block poweroff
EOF
}
