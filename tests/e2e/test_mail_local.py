"""Mail module, mode local, end to end: inbound mail for the profile's domains lands in the
Maildirs (Postfix virtual delivery, DMARC checked), outbound mail (SMTP from this host and the
sendmail command) is DKIM-signed, nobody outside can relay, and a re-run changes nothing."""
import json
import subprocess

import harness
from harness import Sandbox, check, diff_trees, run_cmd, wait_for
import mailtest as mt

DAEMON_RUNTIME = ["var/spool/postfix", "var/log/mail", "var/log/services", "var/lib/postfix",
                  "run", "var/run", "var/vmail", "var/lib/opendmarc", "var/log/firstboot"]


def test_local_mode():
    with Sandbox("mail-local", profile="local.yaml") as sb:
        out = sb.run()
        check("READY" in out.stdout, out.stdout)
        pids = mt.service_pids(sb)
        check({"postfix", "opendkim", "opendmarc"} <= set(pids), pids)
        check("dovecot" not in pids, "dovecot runs in mode local")

        # Inbound from outside to a mailbox and to postmaster@: delivered, DMARC-checked.
        for rcpt, owner in (("bob@example.com", "bob@example.com"),
                            ("postmaster@example.com", "alice@example.com")):
            code, tx = mt.swaks("--server", "127.0.0.1", "--port", str(mt.SMTP),
                                "--local-interface", mt.OUTSIDE, "--from", "sender@example.net",
                                "--to", rcpt, "--header", f"Subject: e2e inbound {rcpt}")
            check(code == 0, tx)
            message = mt.wait_for_message(sb, owner, f"e2e inbound {rcpt}")
            check(b"dmarc=" in message, "no DMARC verdict in:\n" + message[:800].decode())
            check(b"DKIM-Signature" not in message, "inbound mail from outside was signed")

        # Outside clients cannot relay, nor send to unknown local users.
        replies = mt.smtp_lines(mt.SMTP, ["EHLO outside.example.net",
                                          "MAIL FROM:<spammer@example.net>",
                                          "RCPT TO:<victim@example.org>",
                                          "RCPT TO:<nobody@example.com>", "QUIT"],
                                source=mt.OUTSIDE)
        check(replies[3].startswith("554"), replies[3])
        check(replies[4].startswith("550"), replies[4])

        # Outbound from this host over SMTP: signed; the local copy verifies with dkimpy.
        code, tx = mt.swaks("--server", "127.0.0.1", "--port", str(mt.SMTP),
                            "--from", "alice@example.com", "--to", "bob@example.com",
                            "--header", "Subject: e2e outbound smtp")
        check(code == 0, tx)
        message = mt.wait_for_message(sb, "bob@example.com", "e2e outbound smtp")
        check(mt.verify_dkim(sb, message) == ["rsa-sha256"], "not signed with the RSA key")

        # Through the sendmail command (pickup): signed too.
        msg = ("From: alice@example.com\nTo: bob@example.com\nSubject: e2e sendmail\n\n"
               "local submission\n")
        run_cmd(["/usr/sbin/sendmail", "-C", sb.path("etc/postfix"), "-f", "alice@example.com",
                 "bob@example.com"], input=msg, check_rc=0)
        message = mt.wait_for_message(sb, "bob@example.com", "e2e sendmail")
        check(mt.verify_dkim(sb, message) == ["rsa-sha256"], "sendmail mail not signed")

        # Mail to the outside world is signed before it is queued (no network here: it waits).
        code, tx = mt.swaks("--server", "127.0.0.1", "--port", str(mt.SMTP),
                            "--from", "alice@example.com", "--to", "friend@example.org",
                            "--header", "Subject: e2e outbound remote")
        check(code == 0, tx)
        queued = []

        def in_queue():
            q = run_cmd(["/usr/sbin/postqueue", "-c", sb.path("etc/postfix"), "-j"]).stdout
            queued[:] = [json.loads(line) for line in q.splitlines() if line.strip()]
            return any(e["recipients"][0]["address"] == "friend@example.org" for e in queued)
        wait_for(in_queue, timeout=20, what="the remote message in the queue")
        qid = [e["queue_id"] for e in queued
               if e["recipients"][0]["address"] == "friend@example.org"][0]
        headers = run_cmd(["/usr/sbin/postcat", "-c", sb.path("etc/postfix"), "-hq", qid],
                          check_rc=0).stdout
        check("DKIM-Signature:" in headers and "d=example.com" in headers, headers)

        # A re-run changes nothing and restarts nothing.
        before = sb.snapshot(exclude=DAEMON_RUNTIME)
        again = sb.run()
        check(not diff_trees(before, sb.snapshot(exclude=DAEMON_RUNTIME)), "files changed")
        check(mt.service_pids(sb) == pids, "a re-run restarted a service:\n" + again.stdout)


if __name__ == "__main__":
    harness.main(globals())
