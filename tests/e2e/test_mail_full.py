"""Mail module, mode full, end to end with the real daemons in the sandbox: submission with
STARTTLS + AUTH, DKIM (RSA and Ed25519) verified with dkimpy against the published keys, delivery
over LMTP, reading over IMAP, IMAPS and POP3, required addresses, refusals (open relay, AUTH before
TLS, wrong password, TLS 1.1, plaintext IMAP login), quota, a no-op re-run, a user added without
restarts, stop; and the faults: a port in use, a config its daemon rejects."""
import os
import shutil
import socket
import ssl
import subprocess
import time

import harness
from harness import BIN, SOURCE, Sandbox, check, diff_trees, run_cmd, wait_for
import mailtest as mt

DAEMON_RUNTIME = ["var/spool/postfix", "var/log/mail", "var/log/services", "var/lib/dovecot",
                  "var/lib/postfix", "run", "var/run", "var/vmail", "var/lib/opendmarc",
                  "var/log/firstboot"]
ALICE, ALICE_PW = "alice@example.com", "alice-demo-pass"
BOB, BOB_PW = "bob@example.com", "bob-demo-pass"
MAIL_SERVICES = {"postfix", "dovecot", "opendkim", "opendkim-ed25519", "opendmarc"}


def test_full_mode_mail_flow():
    with Sandbox("mail-full") as sb:
        out = sb.run()
        check("READY" in out.stdout, out.stdout)

        # AUTH never before TLS: not on submission before STARTTLS, never on port 25.
        replies = mt.smtp_lines(mt.SUBMISSION, ["EHLO client.example.net", "QUIT"])
        check("STARTTLS" in replies[1] and "AUTH" not in replies[1], replies[1])
        replies = mt.smtp_lines(mt.SMTP, ["EHLO client.example.net", "QUIT"])
        check("AUTH" not in replies[1], replies[1])

        # Submission as alice to bob: signed twice, delivered, readable.
        code, tx = mt.submit(ALICE, ALICE_PW, BOB, "e2e full hello")
        check(code == 0 and "250 2.0.0 Ok: queued" in tx, tx)
        code, tx = mt.submit(ALICE, ALICE_PW, BOB, "e2e full smtps", port=mt.SMTPS, tls="--tlsc")
        check(code == 0, tx)
        message = mt.wait_for_message(sb, BOB, "e2e full hello")
        algorithms = mt.verify_dkim(sb, message)
        check(sorted(algorithms) == ["ed25519-sha256", "rsa-sha256"], algorithms)
        mt.wait_for_message(sb, BOB, "e2e full smtps")
        check(any("e2e full hello" in s for s in mt.imap_subjects(BOB, BOB_PW)), "not over IMAP")
        check(any("e2e full smtps" in s
                  for s in mt.imap_subjects(BOB, BOB_PW, port=mt.IMAPS, implicit_tls=True)),
              "not over IMAPS")
        check(mt.pop3_count(BOB, BOB_PW) >= 2, "not over POP3")

        # postmaster@ and abuse@ deliver (to alice, per the profile).
        for rcpt in ("postmaster@example.com", "abuse@example.com"):
            code, tx = mt.submit(ALICE, ALICE_PW, rcpt, f"e2e to {rcpt}")
            check(code == 0, tx)
            mt.wait_for_message(sb, ALICE, f"e2e to {rcpt}")

        # Refusals.
        code, tx = mt.submit(ALICE, "wrong-password", BOB, "never")
        check(code != 0 and "535" in tx, tx)
        replies = mt.smtp_lines(mt.SMTP, ["EHLO outside.example.net",
                                          "MAIL FROM:<spammer@example.net>",
                                          "RCPT TO:<victim@example.org>", "QUIT"],
                                source=mt.OUTSIDE)
        check(replies[3].startswith("554"), f"relay from outside not refused: {replies[3]}")
        imap = mt.OutsideIMAP("127.0.0.1", mt.IMAP)
        check("LOGINDISABLED" in imap.capabilities, imap.capabilities)
        try:
            imap.login(BOB, BOB_PW)
            raise harness.Failure("plaintext IMAP login accepted without TLS")
        except mt.imaplib.IMAP4.error:
            pass
        for port in (mt.SMTPS, mt.IMAPS):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
                    mt.tls_context(ssl.TLSVersion.TLSv1_1).wrap_socket(raw)
                raise harness.Failure(f"TLS 1.1 accepted on port {port}")
            except (ssl.SSLError, ConnectionResetError):
                pass

        # A no-op re-run changes nothing and restarts nothing.
        pids = mt.service_pids(sb)
        check(MAIL_SERVICES <= set(pids), pids)
        before = sb.snapshot(exclude=DAEMON_RUNTIME)
        again = sb.run()
        check(not diff_trees(before, sb.snapshot(exclude=DAEMON_RUNTIME)),
              "a no-op re-run changed files:\n" + "\n".join(
                  diff_trees(before, sb.snapshot(exclude=DAEMON_RUNTIME))))
        check("started" not in again.stdout and "restarted" not in again.stdout, again.stdout)
        check(mt.service_pids(sb) == pids, "a no-op re-run restarted a service")

        # A new user and a smaller quota change only the store: no restart, effective at once.
        carol_hash = run_cmd([BIN, "hash-password"], input="carol-pass\n", check_rc=0).stdout.strip()

        def more(doc):
            doc["users"].append({"address": "carol@example.com", "password_hash": carol_hash,
                                 "quota": "1M"})
            return doc
        sb.use_profile("full.yaml", more)
        changed = sb.run()
        check(mt.service_pids(sb) == pids, "adding a user restarted a service:\n" + changed.stdout)
        big = "x" * 76 + "\n"
        code, tx = mt.submit(ALICE, ALICE_PW, "carol@example.com", "e2e small",
                             body="fits\n")
        check(code == 0, tx)
        mt.wait_for_message(sb, "carol@example.com", "e2e small")
        check(any("e2e small" in s for s in mt.imap_subjects("carol@example.com", "carol-pass")),
              "carol cannot read her mail")
        body_file = os.path.join(sb.root, "big-body.txt")
        with open(body_file, "w") as f:
            f.write(big * 20000)  # 1.5 MB: over carol's 1M quota
        code, tx = mt.submit(ALICE, ALICE_PW, "carol@example.com", "e2e too big",
                             body=body_file)
        check(code == 0, tx)
        wait_for(lambda: "Mailbox is full" in mt.postfix_log(sb) or "Quota exceeded"
                 in mt.postfix_log(sb), timeout=20, what="the quota refusal in the Postfix log")
        check(not any(b"e2e too big" in m for m in mt.maildir_messages(sb, "carol@example.com")),
              "a message over quota was delivered")

        # stop: every daemon gone.
        sb.firstboot("stop", check_rc=0)
        wait_for(lambda: not any(mt.pid_alive(p) for p in pids.values()), timeout=20,
                 what="every mail daemon to exit")


def test_port_in_use_is_reported_and_nothing_starts():
    with Sandbox("mail-port-busy") as sb:
        holder = socket.socket()
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        holder.bind(("127.0.0.1", mt.SUBMISSION))
        holder.listen(1)
        try:
            out = sb.run(check_rc=1)
        finally:
            holder.close()
        text = out.stdout + out.stderr
        check(str(mt.SUBMISSION) in text and "in use" in text, text)
        running = [n for n, p in mt.service_pids(sb).items() if n in MAIL_SERVICES and
                   mt.pid_alive(p)]
        check(not running, f"half-started: {running}")
        # Free again: the next run converges.
        check("READY" in sb.run().stdout, "no READY after the port was freed")


def test_rejected_config_keeps_the_previous_one_serving():
    with Sandbox("mail-bad-config") as sb:
        sb.run()
        main_cf = sb.path("etc/postfix/main.cf")
        with open(main_cf) as f:
            good = f.read()
        pid = mt.service_pids(sb)["postfix"]
        # A data directory whose main.cf template carries a value Postfix refuses.
        data = os.path.join(sb.root, "data")
        for d in ("templates", "schema", "profiles"):
            shutil.copytree(os.path.join(SOURCE, d), os.path.join(data, d), symlinks=True)
        with open(os.path.join(data, "templates/mail/postfix/main.cf"), "a") as f:
            f.write("default_process_limit = not-a-number\n")
        env = dict(os.environ, FIRSTBOOT_DATA_DIR=data)
        bad = subprocess.run([BIN, "run", "--profile", sb.profile, "--sandbox", sb.dir],
                             capture_output=True, text=True, timeout=300, env=env)
        text = bad.stdout + bad.stderr
        check(bad.returncode == 1, text)
        check("main.cf" in text and "default_process_limit" in text, text)
        with open(main_cf) as f:
            check(f.read() == good, "main.cf was not restored")
        check(mt.service_pids(sb)["postfix"] == pid and mt.pid_alive(pid), "postfix restarted")
        replies = mt.smtp_lines(mt.SMTP, ["QUIT"])
        check(replies[0].startswith("220"), replies)


if __name__ == "__main__":
    harness.main(globals())
