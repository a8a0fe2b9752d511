#!/usr/bin/python3
"""image/scan-secrets finds every kind of per-machine secret in a tree and in a raw image, and
passes a clean tree, including program binaries that only contain the PEM marker strings."""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

SOURCE = os.environ.get("FIRSTBOOT_SOURCE",
                        os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
SCAN = os.path.join(SOURCE, "image", "scan-secrets")


def scan(target):
    return subprocess.run([SCAN, target], capture_output=True, text=True, timeout=120)


def write(path, data, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb" if isinstance(data, bytes) else "w") as f:
        f.write(data)
    os.chmod(path, mode)


class ScanSecrets(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="scan-secrets-test.")
        self.tree = os.path.join(self.tmp, "root")
        # A clean tree that looks like an image: an empty machine-id, configs, and "binaries"
        # that contain the PEM markers as string constants (like ssh-keygen and libcrypto).
        write(f"{self.tree}/etc/machine-id", "")
        write(f"{self.tree}/etc/postfix/main.cf", "myhostname = mail.example.com\n")
        write(f"{self.tree}/usr/bin/ssh-keygen",
              b"\x7fELF\x00-----BEGIN OPENSSH PRIVATE KEY-----\n\x00-----END OPENSSH PRIVATE KEY-----\n\x00",
              0o755)
        write(f"{self.tree}/usr/lib/libcrypto.so.3",
              b"\x7fELF\x00-----BEGIN PRIVATE KEY-----\x00ENCRYPTED PRIVATE KEY\x00", 0o644)
        write(f"{self.tree}/etc/bind/named.conf", 'include "/etc/bind/named.conf.options";\n')
        write(f"{self.tree}/usr/share/doc/x/README", "Put your key in a file; keep the secret safe.\n")
        os.makedirs(f"{self.tree}/etc/ssh", exist_ok=True)
        os.symlink("/etc/machine-id", f"{self.tree}/etc/machine-id-link")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def assertClean(self, target):
        r = scan(target)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("no private key", r.stdout)

    def assertFinds(self, target, rel, what):
        r = scan(target)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn(f"{rel}: {what}", r.stdout)

    def test_clean_tree_passes(self):
        self.assertClean(self.tree)

    def test_openssl_keys(self):
        for alg, opts in (("RSA", ["-pkeyopt", "rsa_keygen_bits:1024"]), ("ED25519", []),
                          ("EC", ["-pkeyopt", "ec_paramgen_curve:P-256"])):
            with self.subTest(alg=alg):
                path = f"{self.tree}/var/lib/somewhere/{alg.lower()}.pem"
                os.makedirs(os.path.dirname(path), exist_ok=True)
                subprocess.run(["openssl", "genpkey", "-algorithm", alg, *opts, "-out", path],
                               check=True, capture_output=True)
                self.assertFinds(self.tree, f"/var/lib/somewhere/{alg.lower()}.pem",
                                 "PEM private key (PKCS#8)")
                os.unlink(path)
        self.assertClean(self.tree)

    def test_traditional_and_encrypted_pem(self):
        path = f"{self.tree}/opt/app/key.pem"
        os.makedirs(os.path.dirname(path), exist_ok=True)
        subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
                        "rsa_keygen_bits:1024", "-out", path], check=True, capture_output=True)
        subprocess.run(["openssl", "rsa", "-in", path, "-traditional", "-out", path],
                       check=True, capture_output=True)
        self.assertFinds(self.tree, "/opt/app/key.pem", "PEM private key (RSA)")
        subprocess.run(["openssl", "pkcs8", "-topk8", "-in", path, "-out", path + ".enc",
                        "-passout", "pass:test", "-v2", "aes-256-cbc"], check=True,
                       capture_output=True)
        os.rename(path + ".enc", path)
        self.assertFinds(self.tree, "/opt/app/key.pem", "PEM private key (ENCRYPTED)")

    @unittest.skipUnless(shutil.which("ssh-keygen"), "ssh-keygen (openssh-client) is not installed")
    def test_ssh_host_keys(self):
        key = f"{self.tree}/etc/ssh/ssh_host_ed25519_key"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key], check=True)
        r = scan(self.tree)
        self.assertEqual(r.returncode, 1)
        self.assertIn("/etc/ssh/ssh_host_ed25519_key: SSH host key", r.stdout)
        # The public half alone is not a secret.
        os.unlink(key)
        self.assertClean(self.tree)

    def test_dkim_key_by_name_even_without_pem(self):
        write(f"{self.tree}/etc/opendkim/keys/example.com/mail.private", b"\x30\x82\x04binary", 0o600)
        self.assertFinds(self.tree, "/etc/opendkim/keys/example.com/mail.private",
                         "DKIM private key file")

    def test_key_files_and_tsig(self):
        write(f"{self.tree}/etc/bind/rndc.key",
              'key "rndc-key" {\n\talgorithm hmac-sha256;\n\tsecret "c2VjcmV0c2VjcmV0c2VjcmV0";\n};\n')
        r = scan(self.tree)
        self.assertEqual(r.returncode, 1)
        self.assertIn("/etc/bind/rndc.key: key file", r.stdout)
        os.rename(f"{self.tree}/etc/bind/rndc.key", f"{self.tree}/etc/bind/named.conf.local")
        self.assertFinds(self.tree, "/etc/bind/named.conf.local", "TSIG/rndc key with a secret")

    def test_machine_id_and_random_seed(self):
        write(f"{self.tree}/etc/machine-id", "0123456789abcdef0123456789abcdef\n")
        self.assertFinds(self.tree, "/etc/machine-id", "machine-id is not empty")
        write(f"{self.tree}/etc/machine-id", "")
        write(f"{self.tree}/var/lib/systemd/random-seed", b"\x01" * 512, 0o600)
        self.assertFinds(self.tree, "/var/lib/systemd/random-seed", "systemd secret")

    def test_key_shipped_by_a_package_is_a_note(self):
        lib = f"{self.tree}/usr/lib/x86_64-linux-gnu/libselftest.so.1"
        key = os.path.join(self.tmp, "k.pem")
        subprocess.run(["openssl", "genpkey", "-algorithm", "ED25519", "-out", key], check=True,
                       capture_output=True)
        with open(key, "rb") as f:
            data = b"\x7fELF\x00" + f.read() + b"\x00"
        write(lib, data)
        import hashlib
        write(f"{self.tree}/var/lib/dpkg/info/libselftest1:amd64.md5sums",
              f"{hashlib.md5(data).hexdigest()}  usr/lib/x86_64-linux-gnu/libselftest.so.1\n")
        r = scan(self.tree)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("note:", r.stdout)
        self.assertIn("as shipped by its Debian package", r.stdout)
        # Changed after installation: no longer what the package shipped.
        write(lib, data + b"changed")
        self.assertFinds(self.tree, "/usr/lib/x86_64-linux-gnu/libselftest.so.1",
                         "PEM private key (PKCS#8)")

    def test_raw_image(self):
        for tool in ("sgdisk", "mkfs.ext4", "mkfs.vfat", "mcopy", "debugfs", "sfdisk", "ssh-keygen"):
            if not shutil.which(tool) and not os.path.exists(f"/usr/sbin/{tool}") \
                    and not os.path.exists(f"/sbin/{tool}"):
                self.skipTest(f"{tool} missing (scripts/install-image-deps)")
        img = os.path.join(self.tmp, "disk.img")
        esp = os.path.join(self.tmp, "esp.img")
        root = os.path.join(self.tmp, "root.img")

        def build(with_key_on_esp, with_key_in_root):
            for f in (img, esp, root):
                if os.path.exists(f):
                    os.unlink(f)
            key = f"{self.tree}/root/.ssh/id_ed25519"
            if with_key_in_root:
                os.makedirs(os.path.dirname(key), exist_ok=True)
                subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key], check=True)
            subprocess.run(["mkfs.ext4", "-q", "-F", "-d", self.tree, root, "16M"], check=True,
                           capture_output=True)
            if with_key_in_root:
                shutil.rmtree(f"{self.tree}/root")
            subprocess.run(["mkfs.vfat", "-C", esp, str(34 * 1024)], check=True, capture_output=True)
            env = dict(os.environ, MTOOLS_SKIP_CHECK="1")
            subprocess.run(["mmd", "-i", esp, "::firstboot"], check=True, env=env)
            prof = os.path.join(self.tmp, "profile.yaml")
            write(prof, "hostname: mail.example.com\n")
            subprocess.run(["mcopy", "-i", esp, prof, "::firstboot/profile.yaml"], check=True, env=env)
            if with_key_on_esp:
                k = os.path.join(self.tmp, "tls.key")
                subprocess.run(["openssl", "genpkey", "-algorithm", "ED25519", "-out", k], check=True,
                               capture_output=True)
                subprocess.run(["mcopy", "-i", esp, k, "::firstboot/tls.pem"], check=True, env=env)
            subprocess.run(["truncate", "-s", "52M", img], check=True)
            subprocess.run(["sgdisk", "-n", "1:1M:+34M", "-t", "1:ef00", "-n", "2:0:+16M",
                            "-t", "2:8300", img], check=True, capture_output=True)
            subprocess.run(["dd", f"if={esp}", f"of={img}", "bs=1M", "seek=1", "conv=notrunc",
                            "status=none"], check=True)
            subprocess.run(["dd", f"if={root}", f"of={img}", "bs=1M", "seek=35", "conv=notrunc",
                            "status=none"], check=True)

        build(False, False)
        self.assertClean(img)
        build(True, False)
        self.assertFinds(img, "/boot/efi/firstboot/tls.pem", "PEM private key (PKCS#8)")
        build(False, True)
        self.assertFinds(img, "/root/.ssh/id_ed25519", "PEM private key (OPENSSH)")


if __name__ == "__main__":
    unittest.main(verbosity=2)
