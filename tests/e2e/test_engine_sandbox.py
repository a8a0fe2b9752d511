"""The engine end to end: a cold sandbox run, a no-op re-run that writes nothing, plan, status,
analyze, --only, stop, and no secret in any log."""
import json
import os

import harness
from harness import Sandbox, check, diff_trees

# Files the running daemons write themselves (queues, their own logs and state): the engine's
# promise is about what *it* writes, so these are left out of the "nothing changed" comparisons.
DAEMON_RUNTIME = ["var/spool/postfix", "var/log/mail", "var/log/services", "var/lib/dovecot",
                  "var/lib/postfix", "var/lib/bind", "var/lib/nsd", "run", "var/run",
                  "var/mail", "var/vmail", "var/lib/opendmarc"]


def test_cold_run_then_noop_rerun_writes_nothing():
    with Sandbox("engine-noop") as sb:
        first = sb.run()
        check("READY" in first.stdout, f"no READY in the report:\n{first.stdout}")
        before = sb.snapshot(exclude=DAEMON_RUNTIME)
        second = sb.run()
        after = sb.snapshot(exclude=DAEMON_RUNTIME)
        changes = diff_trees(before, after)
        check(not changes, "a no-op re-run changed files:\n" + "\n".join(changes))
        check("unchanged" in second.stdout, second.stdout)
        check("started" not in second.stdout and "restarted" not in second.stdout,
              "a no-op re-run touched a service:\n" + second.stdout)


def test_plan_touches_nothing():
    with Sandbox("engine-plan") as sb:
        planned = sb.firstboot("plan", check_rc=0)
        check("create" in planned.stdout, planned.stdout)
        check(not os.path.exists(sb.dir), "plan created the sandbox directory")
        sb.run()
        before = sb.snapshot(exclude=DAEMON_RUNTIME)
        replanned = sb.firstboot("plan", check_rc=0)
        check(diff_trees(before, sb.snapshot(exclude=DAEMON_RUNTIME)) == [], "plan changed files")
        for line in replanned.stdout.splitlines():
            if ":" in line and "(order" in line:
                check(line.endswith("no changes"), f"plan after a run wants changes: {line}")


def test_status_json_and_analyze():
    with Sandbox("engine-status") as sb:
        sb.run()
        status = sb.firstboot("status", "--json", check_rc=0)
        doc = json.loads(status.stdout)
        check(doc["ready"] is True, status.stdout)
        names = [m["name"] for m in doc["modules"]]
        check("ssl" in names, names)
        for module in doc["modules"]:
            check(module["state"] == "done", module)
            check(module["checks"], f"module {module['name']} recorded no checks")
        analyze = sb.firstboot("analyze", check_rc=0)
        check("ssl" in analyze.stdout and "total" in analyze.stdout, analyze.stdout)


def test_only_one_module():
    with Sandbox("engine-only") as sb:
        sb.run()
        os.remove(sb.path("etc/firstboot/tls/mail.example.com/fullchain.pem"))
        out = sb.firstboot("run", "--only", "ssl", check_rc=0)
        check(os.path.exists(sb.path("etc/firstboot/tls/mail.example.com/fullchain.pem")), out.stdout)
        bad = sb.firstboot("run", "--only", "nope")
        check(bad.returncode == 1 and "no module named 'nope'" in bad.stderr, bad.stderr)


def test_keys_private_and_never_regenerated():
    with Sandbox("engine-keys") as sb:
        sb.run()
        keys = []
        for dirpath, _, files in os.walk(sb.dir):
            for f in files:
                full = os.path.join(dirpath, f)
                # Regular files only: the mail daemons keep sockets in the sandbox too.
                if os.path.islink(full) or not os.path.isfile(full) or "backup" in full:
                    continue
                with open(full, "rb") as fh:
                    if b"PRIVATE KEY-----" in fh.read(4096):
                        keys.append(full)
        check(keys, "no private keys found")
        contents = {}
        for k in keys:
            mode = os.stat(k).st_mode & 0o777
            check(mode in (0o600, 0o640), f"{k} has mode {oct(mode)}")
            with open(k, "rb") as fh:
                contents[k] = fh.read()
        sb.firstboot("run", "--force", check_rc=0)
        for k, data in contents.items():
            with open(k, "rb") as fh:
                check(fh.read() == data, f"{k} was regenerated")


def test_no_secret_in_any_log():
    with Sandbox("engine-secrets") as sb:
        out = sb.run()
        # The demo passwords of profiles/ (docs/profile.md) and any PEM private key.
        secrets = [b"PRIVATE KEY", b"alice-demo-pass", b"bob-demo-pass", b"relay-demo-secret"]
        # Regular files only: Postfix keeps its postlog socket under var/log too.
        logs = [os.path.join(d, f) for base in ("var/log",) for d, _, fs in
                os.walk(sb.path(base)) for f in fs
                if os.path.isfile(os.path.join(d, f)) and not os.path.islink(os.path.join(d, f))]
        check(logs, "no log files written")
        for log in logs:
            with open(log, "rb") as fh:
                data = fh.read()
            for s in secrets:
                check(s not in data, f"{s!r} found in {log}")
        for s in secrets:
            check(s.decode() not in out.stdout + out.stderr, f"{s!r} on the console")


def test_stop_stops_everything():
    with Sandbox("engine-stop") as sb:
        sb.run()
        sb.firstboot("stop", check_rc=0)
        status = sb.firstboot("status", "--json")
        check(status.returncode in (0, 1), status.stderr)


if __name__ == "__main__":
    harness.main(globals())
