"""Booting a firstboot image in qemu through UEFI firmware, for image/test-boot and bench/boot.

A VM is a copy of the raw image (the original is never written), booted with OVMF (amd64) or
AAVMF (arm64), KVM when /dev/kvm is usable and the guest matches the host, TCG emulation
otherwise. Networking is qemu user networking restricted to the guest (no packet leaves it),
plus forwarded loopback ports. The serial console goes to a file that is read as it grows.
Every wait is bounded; the VM is powered off over QMP (ACPI) and killed when it does not stop.
"""
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import time

ANSI = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]|\r")
ESP_OFFSET = 1024 * 1024  # image/build puts the EFI partition at 1 MiB

FIRMWARE = {
    "amd64": [("/usr/share/OVMF/OVMF_CODE_4M.fd", "/usr/share/OVMF/OVMF_VARS_4M.fd"),
              ("/usr/share/OVMF/OVMF_CODE.fd", "/usr/share/OVMF/OVMF_VARS.fd")],
    "arm64": [("/usr/share/AAVMF/AAVMF_CODE.fd", "/usr/share/AAVMF/AAVMF_VARS.fd")],
}


class VmError(Exception):
    pass


def log(msg):
    print(f"{time.strftime('%H:%M:%S')} {msg}", flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def kvm_usable(arch):
    host = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine())
    return host == arch and os.access("/dev/kvm", os.R_OK | os.W_OK)


def copy_image(src, dst, grow_mib=0):
    """A sparse copy of the raw image, optionally grown (the image grows its root on first boot)."""
    subprocess.run(["cp", "--sparse=always", src, dst], check=True)
    if grow_mib:
        with open(dst, "r+b") as f:
            f.truncate(os.path.getsize(dst) + grow_mib * 1024 * 1024)


def esp_put(image, local_path, esp_path):
    """Copies a file onto the image's EFI partition (mtools, no mount)."""
    env = dict(os.environ, MTOOLS_SKIP_CHECK="1")
    target = f"{image}@@{ESP_OFFSET}"
    parts = esp_path.strip("/").split("/")[:-1]
    for i in range(len(parts)):
        d = "::" + "/".join(parts[: i + 1])
        subprocess.run(["mmd", "-D", "s", "-i", target, d], env=env, capture_output=True)
    subprocess.run(["mcopy", "-o", "-i", target, local_path, "::" + esp_path.strip("/")],
                   check=True, env=env, capture_output=True)


def esp_get(image, esp_path):
    env = dict(os.environ, MTOOLS_SKIP_CHECK="1")
    return subprocess.run(["mtype", "-i", f"{image}@@{ESP_OFFSET}", "::" + esp_path.strip("/")],
                          check=True, env=env, capture_output=True, text=True).stdout


def esp_set_default_entry(image, entry, workdir):
    """Makes systemd-boot start another loader entry (e.g. firstboot-disabled.conf)."""
    conf = esp_get(image, "loader/loader.conf")
    conf = re.sub(r"(?m)^default .*$", f"default {entry}", conf)
    local = os.path.join(workdir, "loader.conf")
    with open(local, "w") as f:
        f.write(conf)
    esp_put(image, local, "loader/loader.conf")


class Vm:
    def __init__(self, arch, image, workdir, forwards=(), memory_mib=2048, cpus=2):
        self.arch = arch
        self.image = image
        self.workdir = workdir
        self.serial_path = os.path.join(workdir, "serial.log")
        self.qmp_path = os.path.join(workdir, "qmp.sock")
        self.ports = {guest: free_port() for guest in forwards}
        self.memory_mib = memory_mib
        self.cpus = cpus
        self.proc = None
        self.started = None
        self.accel = "kvm" if kvm_usable(arch) else "tcg"
        self._offset = 0
        self._buffer = b""
        self._text = ""

    def command(self):
        for code, vars_template in FIRMWARE[self.arch]:
            if os.path.exists(code) and os.path.exists(vars_template):
                break
        else:
            raise VmError(f"no UEFI firmware for {self.arch}: run scripts/install-image-deps")
        vars_copy = os.path.join(self.workdir, "efivars.fd")
        shutil.copyfile(vars_template, vars_copy)
        # TCP only: with restrict=on, qemu drops the guest's UDP replies to a forwarded port.
        fwd = "".join(f",hostfwd=tcp:127.0.0.1:{host}-:{guest}" for guest, host in self.ports.items())
        common = [
            "-m", str(self.memory_mib), "-smp", str(self.cpus),
            "-drive", f"if=pflash,format=raw,unit=0,readonly=on,file={code}",
            "-drive", f"if=pflash,format=raw,unit=1,file={vars_copy}",
            "-drive", f"if=none,id=disk0,format=raw,file={self.image},cache=unsafe,discard=unmap",
            "-device", "virtio-blk-pci,drive=disk0",
            "-netdev", f"user,id=net0,restrict=on{fwd}",
            "-device", "virtio-net-pci,netdev=net0",
            "-device", "virtio-rng-pci",
            "-serial", f"file:{self.serial_path}",
            "-qmp", f"unix:{self.qmp_path},server=on,wait=off",
            "-monitor", "none", "-display", "none", "-no-user-config", "-nodefaults",
        ]
        if self.arch == "amd64":
            accel = ["-accel", "kvm", "-cpu", "host"] if self.accel == "kvm" else \
                ["-accel", "tcg,thread=multi", "-cpu", "max"]
            return ["qemu-system-x86_64", "-machine", "q35,smm=off", *accel,
                    "-device", "VGA", *common]
        accel = ["-accel", "kvm", "-cpu", "host"] if self.accel == "kvm" else \
            ["-accel", "tcg,thread=multi", "-cpu", "cortex-a72"]
        return ["qemu-system-aarch64", "-machine", "virt", *accel, *common]

    def start(self):
        for p in (self.serial_path, self.qmp_path):
            if os.path.exists(p):
                os.unlink(p)
        cmd = self.command()
        log(f"qemu ({self.arch}, {self.accel}): {' '.join(cmd)}")
        self.started = time.monotonic()
        self.proc = subprocess.Popen(["nice", "-n", "19", *cmd], stdin=subprocess.DEVNULL,
                                     stdout=open(os.path.join(self.workdir, "qemu.out"), "wb"),
                                     stderr=subprocess.STDOUT, start_new_session=True)
        self._offset = 0
        self._buffer = b""
        self._text = ""

    def elapsed(self):
        return time.monotonic() - self.started

    def read_serial(self):
        """New complete lines of serial output since the last call, ANSI sequences removed.
        An unfinished last line (a login prompt) stays in self.partial."""
        try:
            with open(self.serial_path, "rb") as f:
                f.seek(self._offset)
                data = f.read()
        except FileNotFoundError:
            return ""
        self._offset += len(data)
        self._buffer += data
        cut = self._buffer.rfind(b"\n") + 1
        complete, self._buffer = self._buffer[:cut], self._buffer[cut:]
        text = ANSI.sub(b"", complete).decode("utf-8", "replace")
        self._text += text
        return text

    @property
    def partial(self):
        return ANSI.sub(b"", self._buffer).decode("utf-8", "replace")

    def serial_text(self):
        self.read_serial()
        return self._text + self.partial

    def wait_for(self, patterns, timeout, poll=0.5):
        """Waits until a line (or the unfinished last line, such as a login prompt) matches one
        of the regexes; returns (index, match, seconds since start). Raises VmError on timeout
        or when qemu exits."""
        compiled = [re.compile(p) for p in patterns]
        deadline = time.monotonic() + timeout
        while True:
            lines = self.read_serial().split("\n")
            lines.append(self.partial)
            for line in lines:
                for i, rx in enumerate(compiled):
                    m = rx.search(line)
                    if m:
                        if line is lines[-1]:
                            self._text += self.partial  # consumed
                            self._buffer = b""
                        return i, m, self.elapsed()
            if self.proc.poll() is not None:
                raise VmError(f"qemu exited ({self.proc.returncode}) before {patterns}")
            if time.monotonic() > deadline:
                raise VmError(f"timed out after {timeout:.0f} s waiting for {patterns}")
            time.sleep(poll)

    def qmp(self, command):
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(10)
            s.connect(self.qmp_path)
            f = s.makefile("rw")
            json.loads(f.readline())  # greeting
            for cmd in ({"execute": "qmp_capabilities"}, {"execute": command}):
                f.write(json.dumps(cmd) + "\n")
                f.flush()
                while True:
                    reply = json.loads(f.readline())
                    if "return" in reply or "error" in reply:
                        break

    def poweroff(self, timeout=180):
        """ACPI power-off, bounded; then kill. Returns True when the guest shut down cleanly."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc is not None and self.proc.returncode == 0
        clean = False
        try:
            self.qmp("system_powerdown")
            self.proc.wait(timeout=timeout)
            clean = True
        except (OSError, ValueError, subprocess.TimeoutExpired) as e:
            log(f"power-off did not finish ({e}); killing qemu")
        finally:
            self.kill()
        return clean

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(timeout=10)
