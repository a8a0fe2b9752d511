"""`firstboot run` without --profile, as firstboot.service runs it: each seed location is found in
order of preference (fake boot and cloud directories under --root); no console and no seed exits 2
within a second with the message; clear-text secrets on the boot partition are wiped after a
successful apply and kept after a failed one; the kept copy has only hashes."""
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import yaml  # noqa: E402
from wizard_tty import Tty  # noqa: E402
from wizard_walk import crypt, private_file, verify  # noqa: E402

ADMIN_HASH = crypt.crypt("admin-password", crypt.mksalt(crypt.METHOD_SHA512))

PROFILE = """hostname: {host}
admin_email: admin@example.com
mode: full
domains:
  - name: example.com
users:
  - address: admin@example.com
    password_file: admin.pw
"""


def fresh_root(name):
    root = os.path.join(harness.WORK, "seed", name)
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(root)
    return root


def put(root, system_path, text):
    path = os.path.join(root, system_path.lstrip("/"))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    return path


def run_unattended(root, timeout=120):
    """As at boot: no terminal on stdin or stdout."""
    return harness.run_cmd([harness.BIN, "run", "--root", root], stdin=subprocess.DEVNULL,
                           timeout=timeout)


def kept(root):
    return yaml.safe_load(private_file(os.path.join(root, "etc/firstboot/profile.yaml")))


def cloud_config(host):
    """A cloud-config document with the profile under its firstboot: key (a hash, no files)."""
    return ("#cloud-config\npackages: [vim]\nfirstboot:\n"
            f"  hostname: {host}\n  admin_email: admin@example.com\n  mode: full\n"
            "  domains:\n    - name: example.com\n"
            f"  users:\n    - address: admin@example.com\n      password_hash: '{ADMIN_HASH}'\n"
            "runcmd: [true]\n")


def test_no_seed_and_no_console_exits_2_within_a_second():
    root = fresh_root("none")
    start = time.monotonic()
    proc = run_unattended(root)
    elapsed = time.monotonic() - start
    harness.check(proc.returncode == 2, f"exit {proc.returncode}\n{proc.stderr}")
    harness.check(elapsed < 1.0, f"took {elapsed:.2f}s")
    for text in ("no profile found and no console for the wizard",
                 "/boot/firmware/firstboot/profile.yaml: not found",
                 "/var/lib/cloud/seed/nocloud/user-data: not found", "docs/unattended.md"):
        harness.check(text in proc.stderr, f"'{text}' missing from:\n{proc.stderr}")
    harness.check(os.listdir(root) == [], f"something was written: {os.listdir(root)}")


def test_each_location_in_order_of_preference():
    root = fresh_root("order")
    # From the least to the most preferred; each run must pick the newest, best one.
    places = [
        ("/etc/cloud/cloud.cfg.d/90-firstboot.cfg", "cfgd", True),
        ("/var/lib/cloud/instance/user-data.txt", "instance", True),
        ("/var/lib/cloud/seed/nocloud/user-data", "nocloud", True),
        ("/media/cidata/user-data", "cidata", True),
        ("/boot/firstboot/profile.yaml", "boot", False),
        ("/boot/efi/firstboot/profile.yaml", "efi", False),
        ("/boot/firmware/firstboot/profile.yaml", "firmware", False),
    ]
    for path, name, cloud in places:
        host = f"{name}.example.com"
        if cloud:
            put(root, path, cloud_config(host))
        else:
            put(root, path, PROFILE.format(host=host))
            put(root, os.path.join(os.path.dirname(path), "admin.pw"), "admin-password\n")
        if name == "cidata":
            os.makedirs(os.path.join(root, "dev/disk/by-label"), exist_ok=True)
            put(root, "/dev/sr0", "")
            os.symlink("../../sr0", os.path.join(root, "dev/disk/by-label/CIDATA"))
            put(root, "/proc/self/mountinfo",
                "40 22 11:0 / /media/cidata ro,relatime - iso9660 /dev/sr0 ro\n")
        proc = run_unattended(root)
        harness.check(proc.returncode == 0, f"{name}: exit {proc.returncode}\n{proc.stdout}\n"
                                            f"{proc.stderr}")
        harness.check(f"profile from {path}" in proc.stdout, f"{name}:\n{proc.stdout}")
        harness.check(kept(root)["hostname"] == host, f"{name}: kept {kept(root)}")


def test_secrets_wiped_after_apply_and_the_copy_has_only_hashes():
    root = fresh_root("wipe")
    seed_dir = "/boot/firmware/firstboot"
    put(root, seed_dir + "/profile.yaml", PROFILE.format(host="mail.example.com"))
    secret = put(root, seed_dir + "/admin.pw", "admin-password\n")
    proc = run_unattended(root)
    harness.check(proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    harness.check(not os.path.exists(secret), "the password file is still on the boot partition")
    harness.check(f"wiped {secret}" in proc.stdout, proc.stdout)
    doc = kept(root)
    user = doc["users"][0]
    harness.check("password_file" not in user, doc)
    harness.check(verify("admin-password", user["password_hash"]), "the kept hash does not verify")
    text = private_file(os.path.join(root, "etc/firstboot/profile.yaml"))
    harness.check("admin-password" not in text, text)
    # The offline tree boots with the readiness checks on their timer.
    timer = os.path.join(root, "etc/systemd/system/timers.target.wants/firstboot-check.timer")
    harness.check(os.path.islink(timer) and
                  os.readlink(timer) == "/etc/systemd/system/firstboot-check.timer",
                  "firstboot-check.timer is not enabled in the offline tree")
    # The next boot finds the same seed: it applies the kept copy (the secret is gone) and
    # changes nothing.
    before = harness.snapshot_tree(root, exclude=["var/log", "var/lib/firstboot"])
    again = run_unattended(root)
    harness.check(again.returncode == 0, f"exit {again.returncode}\n{again.stdout}{again.stderr}")
    harness.check("unchanged since it was applied" in again.stdout, again.stdout)
    diff = harness.diff_trees(before, harness.snapshot_tree(root, exclude=["var/log",
                                                                           "var/lib/firstboot"]))
    harness.check(diff == [], f"the second run changed: {diff}")


def test_secrets_kept_after_a_failed_apply_or_a_bad_profile():
    root = fresh_root("kept")
    seed_dir = "/boot/efi/firstboot"
    put(root, seed_dir + "/profile.yaml", PROFILE.format(host="mail.example.com"))
    secret = put(root, seed_dir + "/admin.pw", "admin-password\n")
    # The ssl module cannot make its directory: a file stands in the way.
    put(root, "/etc/firstboot/tls", "in the way\n")
    proc = run_unattended(root)
    harness.check(proc.returncode == 1, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    harness.check(os.path.exists(secret), "the password file was removed after a failed apply")
    harness.check("kept for the next attempt" in proc.stderr, proc.stderr)
    # Fixed: the next boot succeeds and only then wipes.
    os.unlink(os.path.join(root, "etc/firstboot/tls"))
    proc = run_unattended(root)
    harness.check(proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    harness.check(not os.path.exists(secret), "the password file survived a successful apply")

    bad = fresh_root("bad")
    put(bad, "/boot/firstboot/profile.yaml",
        PROFILE.format(host="mail.example.com").replace("mode: full", "mode: fast"))
    secret = put(bad, "/boot/firstboot/admin.pw", "admin-password\n")
    proc = run_unattended(bad)
    harness.check(proc.returncode == 2, f"exit {proc.returncode}\n{proc.stderr}")
    harness.check("profile.yaml:3:7: mode:" in proc.stderr, proc.stderr)
    harness.check(os.path.exists(secret), "a bad profile's password file was removed")
    harness.check(not os.path.exists(os.path.join(bad, "etc")), "a bad profile wrote to /etc")


def test_cloud_config_problems_point_into_the_original_file():
    root = fresh_root("cloud-lines")
    put(root, "/etc/cloud/cloud.cfg.d/50-firstboot.cfg",
        cloud_config("mail.example.com").replace("mode: full", "mode: fast"))
    proc = run_unattended(root)
    harness.check(proc.returncode == 2, f"exit {proc.returncode}\n{proc.stderr}")
    harness.check("/etc/cloud/cloud.cfg.d/50-firstboot.cfg (firstboot:):6:9: mode:" in proc.stderr,
                  proc.stderr)
    harness.check(not os.path.exists(os.path.join(root, "etc/firstboot")), "something was kept")


def test_relay_secret_moves_off_the_boot_partition():
    root = fresh_root("relay")
    seed_dir = "/boot/firmware/firstboot"
    put(root, seed_dir + "/profile.yaml", """hostname: mail.example.com
admin_email: admin@example.com
mode: relay
domains:
  - name: example.com
relay:
  host: smtp.provider.example
  port: 587
  username: relay@example.com
  password_file: relay.secret
""")
    secret = put(root, seed_dir + "/relay.secret", "provider-secret\n")
    proc = run_unattended(root)
    harness.check(proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    harness.check(not os.path.exists(secret), "the relay secret is still on the boot partition")
    # The kept copy points at /etc/firstboot/relay.secret, which the mail module consumed into
    # Postfix's 0600 map (it removes its source after a successful apply).
    copy = os.path.join(root, "etc/firstboot/relay.secret")
    harness.check(kept(root)["relay"]["password_file"] == copy, kept(root))
    if os.path.exists(copy):
        harness.check(private_file(copy) == "provider-secret\n", "the relay secret copy differs")
    sasl = private_file(os.path.join(root, "etc/postfix/sasl_passwd"))
    harness.check("provider-secret" in sasl, "the relay password did not reach Postfix")
    harness.check("provider-secret" not in private_file(os.path.join(root,
                                                                     "etc/firstboot/profile.yaml")),
                  "the relay password is in the kept profile")
    again = run_unattended(root)
    harness.check(again.returncode == 0, f"exit {again.returncode}\n{again.stdout}{again.stderr}")


def test_a_provided_tls_key_moves_off_the_boot_partition():
    """tls.cert and tls.key next to the seed (relative paths): the kept copy points at copies
    under /etc/firstboot/provided (the key 0600); the key on the boot partition is wiped after
    the apply, the certificate (no secret) stays; the next boot applies the kept copy."""
    root = fresh_root("tls")
    seed_dir = os.path.join(root, "boot/firmware/firstboot")
    os.makedirs(seed_dir)
    harness.run_cmd(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                     "ec_paramgen_curve:P-256", "-nodes", "-keyout", os.path.join(seed_dir, "key.pem"),
                     "-out", os.path.join(seed_dir, "cert.pem"), "-days", "90", "-subj",
                     "/CN=mail.example.com", "-addext", "subjectAltName=DNS:mail.example.com"],
                    check_rc=0)
    with open(os.path.join(seed_dir, "key.pem")) as f:
        key = f.read()
    put(root, "/boot/firmware/firstboot/profile.yaml",
        PROFILE.format(host="mail.example.com") + "tls:\n  source: provided\n"
        "  cert: cert.pem\n  key: key.pem\n")
    put(root, "/boot/firmware/firstboot/admin.pw", "admin-password\n")
    proc = run_unattended(root)
    harness.check(proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    harness.check(not os.path.exists(os.path.join(seed_dir, "key.pem")),
                  "the TLS key is still on the boot partition")
    harness.check(os.path.exists(os.path.join(seed_dir, "cert.pem")), "the certificate was removed")
    tls = kept(root)["tls"]
    harness.check(tls["key"] == os.path.join(root, "etc/firstboot/provided/privkey.pem"), tls)
    harness.check(tls["cert"] == os.path.join(root, "etc/firstboot/provided/fullchain.pem"), tls)
    harness.check(private_file(tls["key"]) == key, "the kept key differs")
    again = run_unattended(root)
    harness.check(again.returncode == 0, f"exit {again.returncode}\n{again.stdout}{again.stderr}")
    harness.check("unchanged since it was applied" in again.stdout, again.stdout)


def test_no_seed_on_a_console_starts_the_wizard():
    root = fresh_root("console")
    with Tty(os.path.join(harness.WORK, "seed", "console-tty"),
             [harness.BIN, "run", "--root", root]) as t:
        t.wait_for("Host name (1 of 8)")
        t.keys("C-c")
        rc = t.wait_exit()
        screen = t.screen()
    harness.check(rc == 2, f"exit {rc}\n{screen}")
    harness.check("quit; nothing was written" in screen, screen)
    harness.check(os.listdir(root) == [], f"something was written: {os.listdir(root)}")


def test_the_examples_in_docs_unattended_md_pass_check_profile():
    """The hand-written profiles in docs/unattended.md, with real hashes and their files."""
    with open(os.path.join(harness.SOURCE, "docs", "unattended.md")) as f:
        doc = f.read()
    blocks = [b.split("```", 1)[0] for b in doc.split("```yaml\n")[1:]]
    harness.check(len(blocks) >= 4, f"found {len(blocks)} yaml blocks")
    work = fresh_root("docs")
    put(work, "alice.password", "alice-password\n")
    put(work, "relay.secret", "provider-secret\n")
    for i, block in enumerate(blocks):
        text = block.replace("$y$j9T$....", ADMIN_HASH)
        if text.startswith("#cloud-config"):
            text = yaml.safe_dump(yaml.safe_load(text)["firstboot"])
        path = put(work, f"example-{i}.yaml", text)
        harness.run_cmd([harness.BIN, "check-profile", path], check_rc=0)


harness.main(globals())
