#!/usr/bin/python3
"""packaging/firstboot-boot: where the boot units look for a profile, when the unattended run and
when the wizard start, what `run` passes to firstboot and prints, and the done marker. Runs the
helper against fake boot, cloud, /sys and /proc trees under FIRSTBOOT_ROOT and a fake firstboot."""
import os
import shutil
import subprocess
import tempfile
import unittest

SOURCE = os.environ.get("FIRSTBOOT_SOURCE",
                        os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
HELPER = os.path.join(SOURCE, "packaging", "firstboot-boot")

FAKE_FIRSTBOOT = r"""#!/bin/sh
# A stand-in for /usr/bin/firstboot that records how it was called.
echo "$*" >> "$FAKE_LOG"
case "$1 $2" in
  "run --help") [ -n "$FAKE_REQUIRED" ] && echo "  --profile TEXT REQUIRED  the profile"; exit 0 ;;
  "status --json") printf '{\n  "ready": %s,\n  "modules": []\n}\n' "$FAKE_READY"; exit 0 ;;
esac
case "$1" in
  --version) echo "firstboot 0.1.0" ;;
  status) echo "READY (fake)" ;;
  run) exit "$FAKE_RC" ;;
esac
"""


class BootHelper(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="firstboot-boot-test.")
        self.fake = os.path.join(self.root, "fake-firstboot")
        with open(self.fake, "w") as f:
            f.write(FAKE_FIRSTBOOT)
        os.chmod(self.fake, 0o755)
        self.log = os.path.join(self.root, "calls.log")
        self.env = dict(os.environ, FIRSTBOOT_ROOT=self.root, FIRSTBOOT_BIN=self.fake,
                        FAKE_LOG=self.log, FAKE_RC="0", FAKE_READY="true", FAKE_REQUIRED="")
        os.makedirs(f"{self.root}/proc")
        self.write("proc/cmdline", "root=PARTUUID=x ro console=ttyS0\n")

    def tearDown(self):
        shutil.rmtree(self.root, ignore_errors=True)

    def write(self, rel, text):
        path = os.path.join(self.root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
        return path

    def helper(self, *args, **env):
        e = dict(self.env, **env)
        return subprocess.run([HELPER, *args], env=e, capture_output=True, text=True, timeout=30)

    def screen(self, kind="VGA+"):
        self.write("dev/tty1", "")
        self.write("sys/class/vtconsole/vtcon0/name", "(S) dummy device\n")
        self.write("sys/class/vtconsole/vtcon1/name", f"(M) {kind}\n")

    def test_seed_order(self):
        self.assertEqual(self.helper("seed").returncode, 1)
        cloud = self.write("etc/cloud/cloud.cfg.d/90-x.cfg", "#cloud-config\nfirstboot:\n  mode: relay\n")
        self.write("etc/cloud/cloud.cfg.d/10-other.cfg", "#cloud-config\nhostname: x\n")
        self.assertEqual(self.helper("seed").stdout.strip(), cloud)
        self.write("var/lib/cloud/seed/nocloud/user-data", "#cloud-config\nhostname: a\n")
        self.assertEqual(self.helper("seed").stdout.strip(), cloud)  # no firstboot: key
        nocloud = self.write("var/lib/cloud/seed/nocloud/user-data",
                             "#cloud-config\nfirstboot:\n  hostname: a\n")
        self.assertEqual(self.helper("seed").stdout.strip(), nocloud)
        cidata = self.write("dev/disk/by-label/CIDATA", "")
        self.assertEqual(self.helper("seed").stdout.strip(), cidata)
        boot = self.write("boot/firstboot/profile.yaml", "hostname: b\n")
        self.assertEqual(self.helper("seed").stdout.strip(), boot)
        efi = self.write("boot/efi/firstboot/profile.yaml", "hostname: c\n")
        self.assertEqual(self.helper("seed").stdout.strip(), efi)
        firmware = self.write("boot/firmware/firstboot/profile.yaml", "hostname: d\n")
        self.assertEqual(self.helper("seed").stdout.strip(), firmware)

    def test_unattended_or_wizard(self):
        # No profile, no screen: the unattended unit runs (and firstboot says what is missing).
        self.assertEqual(self.helper("want-unattended").returncode, 0)
        self.assertNotEqual(self.helper("want-wizard").returncode, 0)
        # A dummy console only (headless board): still no wizard.
        self.write("dev/tty1", "")
        self.write("sys/class/vtconsole/vtcon0/name", "(S) dummy device\n")
        self.assertEqual(self.helper("want-unattended").returncode, 0)
        self.assertNotEqual(self.helper("want-wizard").returncode, 0)
        # A real screen and no profile: the wizard, not the unattended run.
        self.screen("frame buffer device")
        self.assertEqual(self.helper("want-wizard").returncode, 0)
        self.assertNotEqual(self.helper("want-unattended").returncode, 0)
        # ... unless the kernel command line says no.
        self.write("proc/cmdline", "quiet firstboot.wizard=0\n")
        self.assertNotEqual(self.helper("want-wizard").returncode, 0)
        self.assertEqual(self.helper("want-unattended").returncode, 0)
        self.write("proc/cmdline", "quiet\n")
        # A profile always wins over the wizard.
        self.write("boot/efi/firstboot/profile.yaml", "hostname: c\n")
        self.assertEqual(self.helper("want-unattended").returncode, 0)
        self.assertNotEqual(self.helper("want-wizard").returncode, 0)

    def calls(self):
        with open(self.log) as f:
            return f.read().splitlines()

    def test_run_ready(self):
        seed = self.write("boot/efi/firstboot/profile.yaml", "hostname: c\n")
        r = self.helper("run")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("run", self.calls())  # seed discovery left to firstboot
        self.assertIn(f"firstboot: provisioning from {seed}", r.stdout)
        self.assertIn('FIRSTBOOT-STATUS-JSON: {   "ready": true,   "modules": [] }', r.stdout)
        # READY comes from mark-done, once the success is on disk.
        self.assertNotIn("FIRSTBOOT-READY", r.stdout)
        self.assertNotIn("NOT-READY", r.stdout)

    def test_run_passes_profile_to_a_binary_that_requires_it(self):
        seed = self.write("boot/firstboot/profile.yaml", "hostname: c\n")
        r = self.helper("run", FAKE_REQUIRED="1")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(f"run --profile {seed}", self.calls())

    def test_run_failed(self):
        self.write("boot/efi/firstboot/profile.yaml", "hostname: c\n")
        r = self.helper("run", FAKE_RC="1", FAKE_READY="false")
        self.assertEqual(r.returncode, 1)
        self.assertIn("FIRSTBOOT-NOT-READY exit=1", r.stdout)
        self.assertNotIn("FIRSTBOOT-READY\n", r.stdout)

    def test_mark_done(self):
        state = os.path.join(self.root, "var/lib/firstboot")
        r = self.helper("mark-done")
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(state, "done")) as f:
            content = f.read()
        self.assertIn("firstboot 0.1.0", content)
        self.assertEqual(r.stdout.strip(), "FIRSTBOOT-READY")
        self.assertEqual(sorted(os.listdir(state)), ["done"])

    def test_usage(self):
        self.assertEqual(self.helper().returncode, 2)
        self.assertEqual(self.helper("nonsense").returncode, 2)


if __name__ == "__main__":
    unittest.main(verbosity=2)
