#!/usr/bin/python3
"""The Debian package made by CPack from the build tree: its control fields, Depends, maintainer
scripts and every file the image and the boot units need, at the paths Debian 12 expects."""
import glob
import os
import shutil
import subprocess
import tempfile
import unittest

SOURCE = os.environ.get("FIRSTBOOT_SOURCE",
                        os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
BUILD = os.environ.get("FIRSTBOOT_BUILD_DIR", os.path.join(SOURCE, "build", "dev"))


class Package(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="firstboot-package-test.")
        subprocess.run(["cpack", "-G", "DEB", "--config", os.path.join(BUILD, "CPackConfig.cmake"),
                        "-B", cls.tmp], check=True, capture_output=True, cwd=BUILD, timeout=500)
        debs = glob.glob(os.path.join(cls.tmp, "firstboot_*.deb"))
        assert len(debs) == 1, debs
        cls.deb = debs[0]
        cls.files = subprocess.run(["dpkg-deb", "-c", cls.deb], check=True, capture_output=True,
                                   text=True).stdout
        cls.control = subprocess.run(["dpkg-deb", "-I", cls.deb], check=True,
                                     capture_output=True, text=True).stdout

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def field(self, name):
        return subprocess.run(["dpkg-deb", "-f", self.deb, name], check=True, capture_output=True,
                              text=True).stdout.strip()

    def test_name_and_file_name(self):
        arch = subprocess.run(["dpkg", "--print-architecture"], capture_output=True,
                              text=True).stdout.strip()
        self.assertEqual(self.field("Package"), "firstboot")
        self.assertEqual(self.field("Architecture"), arch)
        self.assertEqual(os.path.basename(self.deb),
                         f"firstboot_{self.field('Version')}_{arch}.deb")
        self.assertEqual(self.field("Section"), "admin")

    def test_depends_on_the_stack_and_libraries(self):
        deps = [d.strip().split(" ")[0] for d in self.field("Depends").split(",")]
        for pkg in ("postfix", "postfix-sqlite", "dovecot-core", "dovecot-imapd", "dovecot-lmtpd",
                    "dovecot-sqlite", "opendkim", "opendkim-tools", "opendmarc", "bind9",
                    "prometheus-node-exporter", "openssl", "libc6", "libyaml-cpp0.7", "libssl3",
                    "libsystemd0", "libsqlite3-0"):
            self.assertIn(pkg, deps)
        self.assertIn("bind9 | nsd", self.field("Depends"))

    def test_files(self):
        for path in ("./usr/bin/firstboot",
                     "./usr/lib/firstboot/firstboot-boot",
                     "./usr/share/man/man8/firstboot.8.gz",
                     "./usr/share/bash-completion/completions/firstboot",
                     "./lib/systemd/system/firstboot.service",
                     "./lib/systemd/system/firstboot-wizard.service",
                     "./lib/systemd/system/firstboot-check.service",
                     "./lib/systemd/system/firstboot-check.timer",
                     "./lib/systemd/system/opendkim@.service"):
            self.assertRegex(self.files, r"(?m) " + path.replace(".", r"\.") + "$", path)
        for data in ("templates", "schema", "profiles"):
            if os.path.isdir(os.path.join(SOURCE, data)):
                self.assertIn(f"./usr/share/firstboot/{data}/", self.files)
        self.assertRegex(self.files, r"(?m)^-rwxr-xr-x root/root .* \./usr/bin/firstboot$")
        # Nothing outside the FHS places a package may use, no build paths.
        for line in self.files.splitlines():
            path = line.split()[-1]
            self.assertTrue(path.startswith(("./usr/", "./lib/systemd/system/")) or path in
                            ("./", "./lib/", "./lib/systemd/"), path)

    def test_maintainer_scripts(self):
        for script in ("postinst", "prerm", "postrm"):
            self.assertRegex(self.control, rf"(?m)^\s+\d+ bytes,\s+\d+ lines\s+\*\s+{script}\s")
        d = os.path.join(self.tmp, "control")
        subprocess.run(["dpkg-deb", "-e", self.deb, d], check=True)
        with open(os.path.join(d, "postinst")) as f:
            postinst = f.read()
        self.assertIn("deb-systemd-helper enable", postinst)
        self.assertNotIn("start firstboot.service", postinst)
        for script in ("postinst", "prerm", "postrm"):
            subprocess.run(["sh", "-n", os.path.join(d, script)], check=True)

    def test_man_page_renders(self):
        d = os.path.join(self.tmp, "root")
        subprocess.run(["dpkg-deb", "-x", self.deb, d], check=True)
        man = os.path.join(d, "usr/share/man/man8/firstboot.8.gz")
        self.assertTrue(os.path.getsize(man) > 1000)
        if not shutil.which("groff"):
            self.skipTest("groff is not installed")
        text = subprocess.run(f"zcat {man} | groff -man -Tutf8 -ww 2>&1 >/dev/null", shell=True,
                              capture_output=True, text=True).stdout
        self.assertEqual(text.strip(), "", text)
        if shutil.which("systemd-analyze"):
            units = [os.path.join(d, "lib/systemd/system", u) for u in
                     ("firstboot.service", "firstboot-wizard.service", "firstboot-check.service",
                      "firstboot-check.timer")]
            r = subprocess.run(["systemd-analyze", "verify", "--man=no", *units],
                               capture_output=True, text=True)
            # Only the absolute paths of the not-installed binaries may be missing here.
            problems = [l for l in (r.stdout + r.stderr).splitlines()
                        if l.strip() and "is not executable" not in l and
                        "No such file or directory" not in l and "Failed to " not in l and
                        "Command " not in l and "not found" not in l]
            self.assertEqual(problems, [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
