"""Walks the wizard in an 80x24 pty, one screen at a time, saving each screen for docs/wizard.md.
Shared by the test_wizard_*.py tests."""
import os
import shutil
import stat
import warnings

import harness
from wizard_tty import Tty

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import crypt  # libxcrypt underneath: checks yescrypt ($y$) hashes

HOST = "mail.example.com"
ADMIN_PASSWORD = "correct horse battery"
CAPTURES = os.path.join(harness.WORK, "wizard-screens")


def verify(password, hashed):
    return crypt.crypt(password, hashed) == hashed


def start(name, *args):
    """The wizard under a fixed host name (its own UTS namespace), in a fresh work dir."""
    work = os.path.join(harness.WORK, "wizard", name)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    argv = ["unshare", "--uts", "sh", "-c", f'hostname {HOST} && exec "$0" "$@"', harness.BIN,
            "wizard"] + list(args)
    return work, Tty(os.path.join(work, "tty"), argv)


def capture(tty, screen_id, must_show=()):
    """Saves the current screen as CAPTURES/<screen_id>.txt; checks it fits 80x24 with its
    buttons and title visible (nothing pushed off the screen)."""
    text = tty.screen()
    lines = text.split("\n")
    harness.check(len(lines) <= 24 and all(len(l) <= 80 for l in lines),
                  f"{screen_id}: larger than 80x24\n{text}")
    for needle in must_show:
        harness.check(needle in text, f"{screen_id}: '{needle}' not on the screen\n{text}")
    os.makedirs(CAPTURES, exist_ok=True)
    with open(os.path.join(CAPTURES, screen_id + ".txt"), "w") as f:
        f.write(text + "\n")
    return text


def private_file(path):
    harness.check(os.path.isfile(path), f"{path} was not written")
    mode = stat.S_IMODE(os.stat(path).st_mode)
    harness.check(mode == 0o600, f"{path} has mode {oct(mode)}, expected 0600")
    with open(path) as f:
        return f.read()


def answer_admin(t, password=ADMIN_PASSWORD):
    """On the admin screen (focus on the address, default kept): both passwords."""
    t.keys("Enter")
    t.type(password)
    t.keys("Enter")
    t.type(password)
    t.keys("Enter")


def walk_to_summary(t, mode="full", capture_screens=False, users=(), tls="self-signed",
                    dns="none", relay=None):
    """From the host name screen to the summary, defaults except what is asked."""
    shot = (lambda sid, *must: capture(t, sid, must)) if capture_screens else (lambda *a: None)
    t.wait_for("Host name (1 of 8)")
    shot("hostname", "Host name:", HOST, "<Next>", "<Quit>")
    t.keys("Enter")
    t.wait_for("Mode (2 of 8)")
    shot("mode", "relay", "local", "full", "<Next>")
    for key in {"relay": ["Up", "Up"], "local": ["Up"], "full": []}[mode]:
        t.keys(key)
    t.keys("Enter")
    t.wait_for("Domains (3 of 8)")
    shot("domains", "example.com", "<Next>")
    t.keys("Enter")
    t.wait_for("Administrator (4 of 8)")
    if mode == "relay":
        shot("admin-relay", "Admin address:", "<Next>")
        t.keys("Enter")
        t.wait_for("Relay (smarthost) (5 of 8)")
        shot("relay", "Server:", "Mappings:", "<Next>")
        host, port, user, password, spf, mappings = relay
        t.type(host)
        t.keys("Enter")
        t.replace_field(str(port))
        t.keys("Enter")
        t.type(user)
        t.keys("Enter")
        t.type(password)
        t.keys("Enter")
        t.type(password)
        t.keys("Enter")
        t.type(spf)
        t.keys("Enter")
        t.type(mappings)
        t.keys("Enter")
    else:
        shot("admin", "Password again:", "<Next>")
        answer_admin(t)
        t.wait_for("Mailboxes (5 of 8)")
        shot("users", "Add a mailbox", "<Next>")
        for address, password, quota in users:
            t.keys("Down", "Enter")
            t.wait_for("New mailbox")
            t.type(address)
            t.keys("Enter")
            t.type(password)
            t.keys("Enter")
            t.type(password)
            t.keys("Enter")
            t.type(quota)
            if capture_screens:
                shot("user", "Quota:", "<Next>")
            t.keys("Enter")
            t.wait_for(f"  {address}")
        if users:
            shot("users-added", users[0][0])
        t.keys("Enter")
    t.wait_for("TLS certificate (6 of 8)")
    shot("tls", "self-signed", "acme", "provided")
    for key in {"self-signed": [], "acme": ["Down"], "provided": ["Down", "Down"]}[tls]:
        t.keys(key)
    t.keys("Enter")
    if tls == "acme":
        t.wait_for("ACME certificate")
        shot("tls-acme", "Directory URL:", "letsencrypt")
        t.keys("Enter", "Enter")
    t.wait_for("DNS (7 of 8)")
    shot("dns", "none", "bind", "nsd")
    for key in {"none": [], "bind": ["Down"], "nsd": ["Down", "Down"]}[dns]:
        t.keys(key)
    t.keys("Enter")
    return t.wait_for("Summary (8 of 8)")
