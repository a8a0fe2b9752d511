#!/usr/bin/python3
"""packaging/firstboot-boot: when the unattended run and when the wizard start, that the seed
search is firstboot's own (`firstboot seed`), what `run` passes to firstboot and prints, and the
done marker. Runs the helper against fake boot, cloud, /sys and /proc trees under FIRSTBOOT_ROOT
and a fake firstboot that hands `seed` to the real binary of the build (FIRSTBOOT_BUILD_DIR)."""
import os
import shutil
import subprocess
import tempfile
import unittest

SOURCE = os.environ.get("FIRSTBOOT_SOURCE",
                        os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
HELPER = os.path.join(SOURCE, "packaging", "firstboot-boot")
BUILD = os.environ.get("FIRSTBOOT_BUILD_DIR", os.path.join(SOURCE, "build", "dev"))
REAL_FIRSTBOOT = os.path.join(BUILD, "src", "cli", "firstboot")

FAKE_FIRSTBOOT = r"""#!/bin/sh
# A stand-in for /usr/bin/firstboot that records how it was called.
echo "$*" >> "$FAKE_LOG"
case "$1 $2" in
  "status --json") printf '{\n  "ready": %s,\n  "modules": []\n}\n' "$FAKE_READY"; exit 0 ;;
esac
case "$1" in
  seed) [ -n "$FAKE_SEED_RC" ] && exit "$FAKE_SEED_RC"; exec "$REAL_FIRSTBOOT" "$@" ;;
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
                        FAKE_LOG=self.log, FAKE_RC="0", FAKE_READY="true", FAKE_SEED_RC="",
                        REAL_FIRSTBOOT=REAL_FIRSTBOOT)
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

    @unittest.skipUnless(os.access(REAL_FIRSTBOOT, os.X_OK), "no firstboot binary in the build")
    def test_seed_search_is_firstboots(self):
        # The helper has no search of its own: it asks `firstboot seed --root`, whose order is
        # firstboot's (tests in src/seed and tests/e2e/test_seed_discovery.py).
        r = self.helper("seed")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn(f"seed --quiet --root {self.root}", self.calls())
        self.write("etc/cloud/cloud.cfg.d/10-other.cfg", "#cloud-config\nhostname: x\n")
        self.assertEqual(self.helper("seed").returncode, 1)  # no firstboot: key
        self.write("etc/cloud/cloud.cfg.d/90-x.cfg", "#cloud-config\nfirstboot:\n  mode: relay\n")
        self.assertEqual(self.helper("seed").stdout.strip(),
                         "/etc/cloud/cloud.cfg.d/90-x.cfg (firstboot:)")
        self.write("boot/firstboot/profile.yaml", "hostname: b\n")
        self.assertEqual(self.helper("seed").stdout.strip(), "/boot/firstboot/profile.yaml")
        self.write("boot/efi/firstboot/profile.yaml", "hostname: c\n")
        self.assertEqual(self.helper("seed").stdout.strip(), "/boot/efi/firstboot/profile.yaml")
        self.write("boot/firmware/firstboot/profile.yaml", "hostname: d\n")
        self.assertEqual(self.helper("seed").stdout.strip(), "/boot/firmware/firstboot/profile.yaml")

    def test_failed_search_runs_unattended(self):
        # `firstboot seed` failing (exit 3) never starts the wizard: the unattended run reports it.
        self.screen()
        self.assertEqual(self.helper("want-unattended", FAKE_SEED_RC="3").returncode, 0)
        self.assertNotEqual(self.helper("want-wizard", FAKE_SEED_RC="3").returncode, 0)

    @unittest.skipUnless(os.access(REAL_FIRSTBOOT, os.X_OK), "no firstboot binary in the build")
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
        r = self.helper("run")
        self.assertEqual(r.returncode, 0, r.stderr)
        # Seed discovery left to `firstboot run` (no --profile).
        self.assertIn(f"run --root {self.root}", self.calls())
        self.assertIn('FIRSTBOOT-STATUS-JSON: {   "ready": true,   "modules": [] }', r.stdout)
        # READY comes from mark-done, once the success is on disk.
        self.assertNotIn("FIRSTBOOT-READY", r.stdout)
        self.assertNotIn("NOT-READY", r.stdout)

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
