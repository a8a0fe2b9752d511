"""Mail module, mode relay, end to end: a send-only null client that hands everything to an
authenticated smarthost (a real SMTP server started here: aiosmtpd with STARTTLS + AUTH on
127.0.0.1:2587), with the address mappings applied to envelope and headers and a valid DKIM
signature; nothing accepted from outside; the password file consumed and removed; a wrong password
reported clearly."""
import email
import glob
import os
import shutil
import signal
import subprocess
import sys
import time

import harness
from harness import PROFILES, Sandbox, check, diff_trees, run_cmd, wait_for
import mailtest as mt

HERE = os.path.dirname(os.path.abspath(__file__))
DAEMON_RUNTIME = ["var/spool/postfix", "var/log/mail", "var/log/services", "var/lib/postfix",
                  "run", "var/run", "var/log/firstboot"]
SMARTHOST_PORT = 2587


class Smarthost:
    """The fake smarthost, stopped (by PID) when the block ends."""

    def __init__(self, root, password):
        self.root = root
        self.spool = os.path.join(root, "smarthost-spool")
        os.makedirs(self.spool, exist_ok=True)
        self.cert, self.key = os.path.join(root, "sh.crt"), os.path.join(root, "sh.key")
        run_cmd(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                 "-subj", "/CN=smarthost.test", "-keyout", self.key, "-out", self.cert],
                check_rc=0)
        self.password_file = os.path.join(root, "smarthost.password")
        with open(self.password_file, "w") as f:
            f.write(password + "\n")
        self.proc = None

    def __enter__(self):
        self.log = open(os.path.join(self.root, "smarthost.log"), "w")
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "fake_smarthost.py"), "--port",
             str(SMARTHOST_PORT), "--cert", self.cert, "--key", self.key, "--user",
             "relay@example.com", "--password-file", self.password_file, "--spool", self.spool],
            stdout=self.log, stderr=subprocess.STDOUT)
        wait_for(lambda: self._listening(), timeout=20, what="the smarthost to listen")
        return self

    def _listening(self):
        try:
            mt.smtp_lines(SMARTHOST_PORT, ["QUIT"], timeout=2)
            return True
        except OSError:
            return False

    def __exit__(self, *exc):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.log.close()
        return False

    def messages(self):
        out = []
        for name in sorted(glob.glob(os.path.join(self.spool, "*.eml"))):
            with open(name, "rb") as f:
                out.append(f.read())
        return out


def relay_profile(sb, secret_text):
    """profiles/relay.yaml with its password file copied into the sandbox's root (the module
    removes it after a successful run)."""
    secret = os.path.join(sb.root, "relay.secret")
    with open(secret, "w") as f:
        f.write(secret_text + "\n")

    def use_copy(doc):
        doc["relay"]["password_file"] = secret
        return doc
    sb.use_profile("relay.yaml", use_copy)
    return secret


def test_relay_mode_through_the_smarthost():
    with Sandbox("mail-relay", profile=None) as sb:
        with open(os.path.join(PROFILES, "secrets", "relay.secret")) as f:
            demo = f.read().strip()
        secret = relay_profile(sb, demo)
        with Smarthost(sb.root, demo) as smarthost:
            out = sb.run()
            check("READY" in out.stdout, out.stdout)
            check(not os.path.exists(secret), "the relay password file was not removed")
            st = os.stat(sb.path("etc/postfix/sasl_passwd"))
            check(st.st_mode & 0o777 == 0o600 and st.st_uid == 0, oct(st.st_mode))
            pids = mt.service_pids(sb)
            check("dovecot" not in pids and "opendmarc" not in pids, pids)

            # Local SMTP and the sendmail command both leave through the smarthost, mapped.
            code, tx = mt.swaks("--server", "127.0.0.1", "--port", str(mt.SMTP),
                                "--from", "contact-sales@mailer.example.com",
                                "--to", "customer@example.org",
                                "--header", "Subject: e2e relay smtp",
                                "--header", "From: Sales <contact-sales@mailer.example.com>")
            check(code == 0, tx)
            run_cmd(["/usr/sbin/sendmail", "-C", sb.path("etc/postfix"), "-f",
                     "contact-sales@mailer.example.com", "customer@example.org"],
                    input="From: contact-sales@mailer.example.com\nTo: customer@example.org\n"
                          "Subject: e2e relay sendmail\n\nbody\n", check_rc=0)
            # (The monitoring module's own probe message may arrive there too.)
            ours = lambda: [m for m in smarthost.messages() if b"Subject: e2e relay" in m]
            wait_for(lambda: len(ours()) >= 2, timeout=30,
                     what="two messages at the smarthost:\n" + mt.postfix_log(sb)[-2000:])
            for raw in ours():
                msg = email.message_from_bytes(raw)
                check(msg["X-Envelope-From"] == "contact-sales@example.com", msg["X-Envelope-From"])
                check(msg["X-Auth-User"] == "relay@example.com", msg["X-Auth-User"])
                check("contact-sales@example.com" in msg["From"] and "mailer." not in msg["From"],
                      msg["From"])
                body = raw.split(b"\r\n", 3)[3]  # the test server's own envelope lines first
                algorithms = mt.verify_dkim(sb, body)
                check(sorted(algorithms) == ["ed25519-sha256", "rsa-sha256"], algorithms)

            # Nothing from outside: no relay, no submission port.
            replies = mt.smtp_lines(mt.SMTP, ["EHLO outside.example.net",
                                              "MAIL FROM:<x@example.net>",
                                              "RCPT TO:<customer@example.org>", "QUIT"],
                                    source=mt.OUTSIDE)
            check(replies[0].startswith("554") or replies[3].startswith("554")
                  or replies[3].startswith("5"), replies)
            try:
                mt.smtp_lines(mt.SUBMISSION, ["QUIT"], timeout=2)
                raise harness.Failure("a submission port listens in relay mode")
            except OSError:
                pass

            # The secret never reaches a log or the console.
            for d, _, files in os.walk(sb.path("var/log")):
                for name in files:
                    path = os.path.join(d, name)
                    if os.path.isfile(path) and not os.path.islink(path):
                        with open(path, "rb") as f:
                            check(demo.encode() not in f.read(), f"the relay password in {path}")
            check(demo not in out.stdout + out.stderr, "the relay password on the console")

            # Re-run without the password file: nothing changes, nothing restarts.
            before = sb.snapshot(exclude=DAEMON_RUNTIME)
            again = sb.run()
            check(not diff_trees(before, sb.snapshot(exclude=DAEMON_RUNTIME)), "files changed")
            check(mt.service_pids(sb) == pids, "a re-run restarted a service:\n" + again.stdout)


def test_wrong_relay_password_is_reported():
    with Sandbox("mail-relay-wrong", profile=None) as sb:
        relay_profile(sb, "not-the-password")
        with Smarthost(sb.root, "relay-demo-secret"):
            out = sb.run(check_rc=1)
            check("mail.relay.smarthost" in out.stdout + out.stderr and "535" in out.stdout,
                  out.stdout + out.stderr)
            status = sb.firstboot("status")
            check(status.returncode == 1 and "refused the relay credentials" in status.stdout,
                  status.stdout)
            # Mail waits in the queue with the smarthost's reason.
            mt.swaks("--server", "127.0.0.1", "--port", str(mt.SMTP), "--from",
                     "contact-sales@example.com", "--to", "customer@example.org")
            reason = []

            def deferred():
                q = run_cmd(["/usr/sbin/postqueue", "-c", sb.path("etc/postfix"), "-j"]).stdout
                reason[:] = [q]
                return "SASL authentication failed" in q
            wait_for(deferred, timeout=30, what="a deferred message")
            check("535" in reason[0], reason[0])


if __name__ == "__main__":
    harness.main(globals())
