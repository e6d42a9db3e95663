"""IPMI BMC emulator for Ferric's tests (run by lab/ipmi-bmc.sh).

One process serves COUNT emulated BMCs on 127.0.0.1, UDP ports
PORT .. PORT+COUNT-1, speaking IPMI 2.0 / RMCP+ (lanplus) through pyghmi's
server side (pyghmi.ipmi.bmc.Bmc).  Each BMC keeps the state of its pretend
machine in memory and mirrors it to STATE_DIR/bmc-<port>.json after every
change, e.g.

    {"port": 6230, "power": "on", "boot_device": "pxe",
     "boot_persistent": true, "boot_uefi": true, "nmi_count": 0,
     "reset_count": 1, "last_action": "cycle", "updated": 1712345678.9}

The file is also read back before every command, so a test may edit it
(write a new file and rename it over the old one) to simulate, say, a
machine that lost power behind the BMC's back.

Differences from pyghmi's bundled fakebmc: binds 127.0.0.1 only, survives
"mc reset cold", records the persistent / EFI boot flags, answers "power
cycle", "power reset" and "power diag" on a powered-off machine with
completion code 0xd5 (command not supported in present state) like real
BMCs do, and supports "bootdev none".

The password comes from the environment variable FERRIC_IPMI_PASSWORD so
that it never shows up in the process list.
"""

import argparse
import json
import os
import sys
import threading
import time
import uuid

import pyghmi.ipmi.bmc as bmc

ADDRESS = "127.0.0.1"
CC_OK = 0x00
CC_INVALID_FIELD = 0xCC
CC_NOT_IN_PRESENT_STATE = 0xD5
CC_PARAM_NOT_SUPPORTED = 0x80

# Boot device selector (bits 5..2 of boot flags data byte 2, IPMI 2.0
# table 28-14) <-> the names stored in the state file.
SELECTOR_TO_NAME = {
    0x0: "none",
    0x1: "pxe",
    0x2: "disk",
    0x3: "safe",
    0x4: "diag",
    0x5: "cdrom",
    0x6: "bios",
    0x7: "remote-floppy",
    0x8: "remote-cdrom",
    0x9: "remote-primary",
    0xB: "remote-disk",
    0xF: "floppy",
}
NAME_TO_SELECTOR = {name: sel for sel, name in SELECTOR_TO_NAME.items()}

_write_lock = threading.Lock()


def log(message):
    stamp = time.strftime("%H:%M:%S")
    print("%s %s" % (stamp, message), file=sys.stderr, flush=True)


class LabBmc(bmc.Bmc):
    """A BMC whose managed machine exists only in memory and a JSON file."""

    def __init__(self, authdata, port, state_path):
        # A stable GUID per port, so "mc guid" answers the same every run.
        guid = uuid.uuid5(uuid.NAMESPACE_URL, "ferric-lab-bmc:%d" % port)
        super().__init__(authdata, port=port, bmcuuid=guid, address=ADDRESS)
        self.state_path = state_path
        self.state = {
            "port": port,
            "power": "off",
            "boot_device": "none",
            "boot_persistent": False,
            "boot_uefi": False,
            "nmi_count": 0,
            "reset_count": 0,
            "last_action": None,
        }

    # ------------------------------------------------------------ state file

    def save(self):
        self.state["updated"] = round(time.time(), 3)
        tmp = "%s.tmp" % self.state_path
        with _write_lock:
            with open(tmp, "w", encoding="utf-8") as handle:
                json.dump(self.state, handle, indent=2, sort_keys=True)
                handle.write("\n")
            os.replace(tmp, self.state_path)

    def reload(self):
        """Pick up edits a test made to the state file; ignore bad files."""
        try:
            with open(self.state_path, encoding="utf-8") as handle:
                data = json.load(handle)
        except (OSError, ValueError):
            return
        if not isinstance(data, dict):
            return
        if data.get("power") in ("on", "off"):
            self.state["power"] = data["power"]
        if data.get("boot_device") in NAME_TO_SELECTOR:
            self.state["boot_device"] = data["boot_device"]
        for key in ("boot_persistent", "boot_uefi"):
            if isinstance(data.get(key), bool):
                self.state[key] = data[key]
        for key in ("nmi_count", "reset_count"):
            if isinstance(data.get(key), int):
                self.state[key] = data[key]

    def _act(self, action, power=None, counter=None):
        self.state["last_action"] = action
        if power is not None:
            self.state["power"] = power
        if counter is not None:
            self.state[counter] += 1
        self.save()
        log("port %d: %s -> power %s" % (self.port, action, self.state["power"]))
        return CC_OK

    def _refuse_if_off(self, action):
        if self.state["power"] == "off":
            log("port %d: %s refused, power is off (0xd5)" % (self.port, action))
            return CC_NOT_IN_PRESENT_STATE
        return None

    # ---------------------------------------------------- pyghmi's callbacks

    def get_system_guid(self):
        return self.uuid

    def cold_reset(self):
        # Resetting the BMC leaves the machine alone; we just carry on.
        log("port %d: mc reset cold (ignored)" % self.port)
        return CC_OK

    def get_power_state(self):
        self.reload()
        return self.state["power"]

    def is_active(self):
        return self.state["power"] == "on"

    def power_on(self):
        self.reload()
        return self._act("on", power="on")

    def power_off(self):
        self.reload()
        return self._act("off", power="off")

    def power_shutdown(self):
        # A polite ACPI shutdown that the pretend OS obeys at once.
        self.reload()
        return self._act("soft", power="off")

    def power_cycle(self):
        self.reload()
        refused = self._refuse_if_off("cycle")
        if refused is not None:
            return refused
        return self._act("cycle", power="on", counter="reset_count")

    def power_reset(self):
        self.reload()
        refused = self._refuse_if_off("reset")
        if refused is not None:
            return refused
        return self._act("reset", power="on", counter="reset_count")

    def pulse_diag(self):
        self.reload()
        refused = self._refuse_if_off("diag")
        if refused is not None:
            return refused
        return self._act("diag", counter="nmi_count")

    # Boot options are handled here in full (pyghmi's own handlers drop the
    # persistent and EFI bits and reject "no override").
    def get_system_boot_options(self, request, session):
        data = request["data"]
        if not data:
            return session.send_ipmi_response(code=CC_INVALID_FIELD)
        param = data[0] & 0x7F
        if param == 0:  # set in progress: "set complete"
            return session.send_ipmi_response(data=[1, 0, 0])
        if param == 5:  # boot flags
            self.reload()
            flags = 0x80  # boot flags valid
            if self.state["boot_persistent"]:
                flags |= 0x40
            if self.state["boot_uefi"]:
                flags |= 0x20
            selector = NAME_TO_SELECTOR[self.state["boot_device"]]
            return session.send_ipmi_response(
                data=[1, 5, flags, selector << 2, 0, 0, 0])
        return session.send_ipmi_response(code=CC_PARAM_NOT_SUPPORTED)

    def set_system_boot_options(self, request, session):
        data = request["data"]
        if not data:
            return session.send_ipmi_response(code=CC_INVALID_FIELD)
        param = data[0] & 0x7F
        if param in (0, 3, 4):
            # set-in-progress, service partition scan, boot info ack: accepted
            # and forgotten.
            return session.send_ipmi_response()
        if param != 5:
            return session.send_ipmi_response(code=CC_PARAM_NOT_SUPPORTED)
        if len(data) < 3:
            return session.send_ipmi_response(code=CC_INVALID_FIELD)
        flags, device = data[1], data[2]
        selector = (device >> 2) & 0x0F
        name = SELECTOR_TO_NAME.get(selector)
        if name is None:
            return session.send_ipmi_response(code=CC_INVALID_FIELD)
        self.reload()
        if not flags & 0x80:
            # "Boot flags invalid": the override is cleared.
            name = "none"
        self.state["boot_device"] = name
        self.state["boot_persistent"] = bool(flags & 0x40)
        self.state["boot_uefi"] = bool(flags & 0x20)
        self.state["last_action"] = "bootdev"
        self.save()
        log("port %d: boot device %s (persistent=%s, uefi=%s)" % (
            self.port, name, self.state["boot_persistent"],
            self.state["boot_uefi"]))
        return session.send_ipmi_response()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=6230)
    parser.add_argument("--count", type=int, default=1)
    parser.add_argument("--user", default="admin")
    parser.add_argument("--state-dir", required=True)
    args = parser.parse_args()

    password = os.environ.get("FERRIC_IPMI_PASSWORD", "password")
    authdata = {args.user: password}

    # Bind every socket before writing any state file: the launcher waits
    # for the files, so their presence means all ports are ours.
    bmcs = []
    for port in range(args.port, args.port + args.count):
        path = os.path.join(args.state_dir, "bmc-%d.json" % port)
        try:
            bmcs.append(LabBmc(authdata, port, path))
        except OSError as exc:
            log("cannot listen on %s:%d/udp: %s" % (ADDRESS, port, exc))
            return 1
    for one in bmcs:
        one.save()
    log("serving %d BMC(s) on %s:%d-%d/udp as user %r (pid %d)" % (
        len(bmcs), ADDRESS, args.port, args.port + args.count - 1,
        args.user, os.getpid()))
    try:
        bmc.Bmc.listen(timeout=30)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
