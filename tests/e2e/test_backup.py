"""Backups end to end (docs/backup.md): provision full mode, deliver mail, `firstboot backup
create` (encrypted), list and verify it, destroy the sandbox, restore into a new one, run
firstboot there with the same profile: the same DKIM keys byte for byte, the same users and
aliases in the store, the old message readable over IMAP with the user's password, new mail
signed with the same keys. A truncated archive, a flipped byte and a wrong passphrase are refused
(exit 1) and leave the target tree unchanged; a restore onto running daemons is refused."""
import grp
import os
import pwd
import shutil
import sqlite3

import harness
from harness import BIN, Sandbox, check, diff_trees, run_cmd
import mailtest as mt

ALICE, ALICE_PW = "alice@example.com", "alice-demo-pass"
BOB, BOB_PW = "bob@example.com", "bob-demo-pass"
KEYS = ["etc/opendkim/keys/example.com/mail.private",
        "etc/opendkim/keys/example.com/mail-ed25519.private"]
PASSPHRASE = "e2e backup passphrase, sandbox only"
# Owner, group and mode kept by the restore (keys 0600 opendkim, the store 0640 dovecot:postfix).
OWNED = KEYS + ["var/lib/firstboot/users.sqlite", "var/vmail", "var/vmail/example.com/bob/Maildir",
                "etc/firstboot/tls/self-signed/mail.example.com/privkey.pem"]


def with_backup(pass_file):
    def change(doc):
        doc["backup"] = {"passphrase_file": pass_file, "keep": 3}
        return doc
    return change


def backup(sb, *args, check_rc=None):
    return run_cmd([BIN, "backup", *args, "--profile", sb.profile, "--sandbox", sb.dir],
                   timeout=300, check_rc=check_rc)


def store_rows(sb):
    db = sqlite3.connect(f"file:{sb.path('var/lib/firstboot/users.sqlite')}?mode=ro", uri=True)
    try:
        users = db.execute("SELECT address, password_hash FROM users ORDER BY address").fetchall()
        aliases = db.execute("SELECT source, destination FROM aliases ORDER BY 1, 2").fetchall()
    finally:
        db.close()
    return users, aliases


def owner_and_mode(path):
    st = os.stat(path)
    return (pwd.getpwuid(st.st_uid).pw_name, grp.getgrgid(st.st_gid).gr_name,
            oct(st.st_mode & 0o7777))


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def test_backup_restore_round_trip():
    work = os.path.join(harness.WORK, "backup-keep")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work, mode=0o700)
    pass_file = os.path.join(work, "backup.pass")
    with open(pass_file, "w") as f:
        f.write(PASSPHRASE + "\n")
    os.chmod(pass_file, 0o600)

    with Sandbox("backup-source") as src:
        src.use_profile("full.yaml", with_backup(pass_file))
        check("READY" in src.run().stdout, "the source did not provision")
        code, tx = mt.submit(ALICE, ALICE_PW, BOB, "e2e before the backup")
        check(code == 0, tx)
        mt.wait_for_message(src, BOB, "e2e before the backup")
        keys = {k: read_bytes(src.path(k)) for k in KEYS}
        owned = {p: owner_and_mode(src.path(p)) for p in OWNED}
        users, aliases = store_rows(src)

        out = backup(src, "create", check_rc=0)
        check("encrypted" in out.stdout and "not encrypted" not in out.stdout, out.stdout)
        check(PASSPHRASE not in out.stdout + out.stderr, "the passphrase reached the output")
        archive_dir = src.path("var/backups/firstboot")
        names = [n for n in os.listdir(archive_dir) if n.endswith(".tar.zst.enc")]
        check(len(names) == 1, names)
        archive = os.path.join(archive_dir, names[0])
        check(os.stat(archive).st_mode & 0o777 == 0o600, "the archive is not 0600")
        check(read_bytes(archive)[:8] == b"FBBKENC1", "not an encrypted archive")
        check(PASSPHRASE.encode() not in read_bytes(archive), "the passphrase is in the archive")

        listing = backup(src, "list", check_rc=0).stdout
        check(names[0] in listing and " yes " in listing, listing)
        verified = backup(src, "verify", check_rc=0).stdout
        check(": ok," in verified, verified)

        # Keep the archive, destroy the machine.
        kept = os.path.join(work, names[0])
        shutil.copy2(archive, kept)
        src.stop()
        shutil.rmtree(src.dir)

    with Sandbox("backup-target") as dst:
        dst.use_profile("full.yaml", with_backup(pass_file))
        restored = run_cmd([BIN, "backup", "restore", kept, "--profile", dst.profile,
                            "--sandbox", dst.dir], timeout=300, check_rc=0)
        check("restored" in restored.stdout, restored.stdout)
        for k, data in keys.items():
            check(read_bytes(dst.path(k)) == data, f"{k} differs right after the restore")
            check(os.stat(dst.path(k)).st_mode & 0o777 == 0o600, f"{k} is not 0600")
        for p, want in owned.items():
            check(owner_and_mode(dst.path(p)) == want,
                  f"{p}: {owner_and_mode(dst.path(p))} after the restore, {want} before")

        out = dst.run()
        check("READY" in out.stdout, out.stdout)
        for k, data in keys.items():
            check(read_bytes(dst.path(k)) == data, f"{k} was regenerated by the run")
        check(store_rows(dst) == (users, aliases),
              f"the store differs:\n{store_rows(dst)}\n{(users, aliases)}")
        check(any("e2e before the backup" in s for s in mt.imap_subjects(BOB, BOB_PW)),
              "the restored message is not readable over IMAP")
        # New mail: signed with the same keys (verified against the published records).
        code, tx = mt.submit(ALICE, ALICE_PW, BOB, "e2e after the restore")
        check(code == 0, tx)
        message = mt.wait_for_message(dst, BOB, "e2e after the restore")
        check(sorted(mt.verify_dkim(dst, message)) == ["ed25519-sha256", "rsa-sha256"],
              "new mail is not signed by both keys")

        # Running daemons: refused after verifying, nothing written.
        busy = run_cmd([BIN, "backup", "restore", kept, "--profile", dst.profile,
                        "--sandbox", dst.dir], timeout=300, check_rc=1)
        check("running" in busy.stderr and "nothing was restored" in busy.stderr, busy.stderr)

        dst.stop()
        before = dst.snapshot()
        data = read_bytes(kept)
        bad_cases = {
            "truncated": data[: len(data) // 2],
            "cut-by-one": data[:-1],
            "flipped": data[: len(data) // 2] + bytes([data[len(data) // 2] ^ 0x01])
            + data[len(data) // 2 + 1:],
        }
        for name, content in bad_cases.items():
            bad = os.path.join(work, f"{name}.tar.zst.enc")
            with open(bad, "wb") as f:
                f.write(content)
            for action in ("verify", "restore"):
                proc = run_cmd([BIN, "backup", action, bad, "--profile", dst.profile,
                                "--sandbox", dst.dir], timeout=300)
                text = proc.stdout + proc.stderr
                check(proc.returncode == 1, f"{action} of a {name} archive: {proc.returncode}\n{text}")
                check("truncated" in text or "damaged" in text, f"{action} {name}: {text}")
            check(not diff_trees(before, dst.snapshot()),
                  f"a {name} archive changed the tree:\n" +
                  "\n".join(diff_trees(before, dst.snapshot())))

        wrong = os.path.join(work, "wrong.pass")
        with open(wrong, "w") as f:
            f.write("not the passphrase\n")
        for action in ("verify", "restore"):
            proc = run_cmd([BIN, "backup", action, kept, "--passphrase-file", wrong,
                            "--profile", dst.profile, "--sandbox", dst.dir], timeout=300)
            check(proc.returncode == 1 and "wrong passphrase" in proc.stderr,
                  f"{action} with a wrong passphrase: {proc.returncode}\n{proc.stderr}")
        check(not diff_trees(before, dst.snapshot()), "a wrong passphrase changed the tree")


def test_postgresql_store_is_refused_with_the_missing_part_named():
    with Sandbox("backup-pg") as sb:
        def pg(doc):
            doc["database"] = "postgresql://mail@db.example.com/mail"
            return doc
        sb.use_profile("full.yaml", pg)
        proc = backup(sb, "create")
        check(proc.returncode == 1, proc.stdout + proc.stderr)
        check("pg_dump" in proc.stderr and "PostgreSQL store" in proc.stderr, proc.stderr)
        check(not os.path.exists(sb.path("var/backups/firstboot")), "something was written")


if __name__ == "__main__":
    harness.main(globals())
