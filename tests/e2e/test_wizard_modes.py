"""The wizard in an 80x24 pseudo-terminal: a full walk-through for each mode produces the expected
profile, which check-profile accepts; without --output it applies the profile through the same
code as `firstboot run` and ends on the readiness report. The screens are saved for the docs."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import yaml  # noqa: E402
from wizard_walk import (ADMIN_PASSWORD, HOST, capture, private_file, start,  # noqa: E402
                         verify, walk_to_summary)

RELAY_PASSWORD = "provider-secret-42"


def check_profile(path):
    harness.run_cmd([harness.BIN, "check-profile", path], check_rc=0)


def test_full_mode_writes_a_profile_with_hashes_only():
    out = os.path.join(harness.WORK, "wizard", "full-out", "profile.yaml")
    if os.path.exists(out):
        os.unlink(out)
    work, t = start("full", "--output", out)
    with t:
        summary = walk_to_summary(t, "full", capture_screens=True,
                                  users=[("alice@example.com", "alice-password", "2G")])
        capture(t, "summary", ["Summary (8 of 8)", "<Write>", "<Back>", "<Quit>",
                               "10 mail.example.com."])
        harness.check("admin@example.com (password hashed)" in summary, summary)
        t.keys("F12")
        rc = t.wait_exit()
        harness.check(rc == 0, f"wizard exited {rc}\n{t.screen()}")
    text = private_file(out)
    for secret in (ADMIN_PASSWORD, "alice-password"):
        harness.check(secret not in text, f"a clear password is in the profile:\n{text}")
    doc = yaml.safe_load(text)
    harness.check(doc["hostname"] == HOST and doc["mode"] == "full", text)
    harness.check([d["name"] for d in doc["domains"]] == ["example.com"], text)
    users = doc["users"]
    harness.check([u["address"] for u in users] == ["admin@example.com", "alice@example.com"], text)
    harness.check(verify(ADMIN_PASSWORD, users[0]["password_hash"]), "admin hash does not verify")
    harness.check(verify("alice-password", users[1]["password_hash"]), "alice hash does not verify")
    harness.check(users[1]["quota"] == "2G", text)
    harness.check(doc["tls"] == {"source": "self-signed"} and doc["dns"] == {"serve": "none"}, text)
    check_profile(out)


def test_relay_mode_keeps_the_secret_in_its_own_file():
    outdir = os.path.join(harness.WORK, "wizard", "relay-out")
    out = os.path.join(outdir, "profile.yaml")
    for stale in (out, os.path.join(outdir, "relay.secret")):
        if os.path.exists(stale):
            os.unlink(stale)
    work, t = start("relay", "--output", out)
    with t:
        walk_to_summary(t, "relay", capture_screens=True,
                        relay=("smtp.provider.example", 465, "relay@example.com", RELAY_PASSWORD,
                               "_spf.provider.example",
                               "contact-sales@mailer.example.com=contact-sales@example.com"))
        capture(t, "summary-relay", ["Relay", "smtp.provider.example:465", "<Write>"])
        t.keys("F12")
        rc = t.wait_exit()
        harness.check(rc == 0, f"wizard exited {rc}\n{t.screen()}")
    text = private_file(out)
    harness.check(RELAY_PASSWORD not in text, f"the relay password is in the profile:\n{text}")
    secret = private_file(os.path.join(outdir, "relay.secret"))
    harness.check(secret == RELAY_PASSWORD, f"relay.secret holds {secret!r}")
    doc = yaml.safe_load(text)
    harness.check(doc["mode"] == "relay" and "users" not in doc, text)
    relay = doc["relay"]
    harness.check(relay["host"] == "smtp.provider.example" and relay["port"] == 465, text)
    harness.check(relay["username"] == "relay@example.com", text)
    harness.check(relay["password_file"] == os.path.join(outdir, "relay.secret"), text)
    harness.check(relay["spf_include"] == "_spf.provider.example", text)
    harness.check(relay["mappings"] == {"contact-sales@mailer.example.com":
                                        "contact-sales@example.com"}, text)
    check_profile(out)


def test_local_mode_with_acme_and_bind():
    out = os.path.join(harness.WORK, "wizard", "local-out", "profile.yaml")
    if os.path.exists(out):
        os.unlink(out)
    work, t = start("local", "--output", out)
    with t:
        walk_to_summary(t, "local", capture_screens=True, tls="acme", dns="bind")
        capture(t, "summary-local", ["delegate", "<Write>"])
        t.keys("F12")
        rc = t.wait_exit()
        harness.check(rc == 0, f"wizard exited {rc}\n{t.screen()}")
    doc = yaml.safe_load(private_file(out))
    harness.check(doc["mode"] == "local", doc)
    harness.check(doc["tls"]["source"] == "acme", doc)
    harness.check(doc["tls"]["acme"]["directory"] ==
                  "https://acme-v02.api.letsencrypt.org/directory", doc)
    harness.check(doc["tls"]["acme"]["email"] == "admin@example.com", doc)
    harness.check(doc["dns"]["serve"] == "bind", doc)
    check_profile(out)


def test_without_output_it_applies_and_ends_on_the_readiness_report():
    with harness.Sandbox("wizard-apply", profile=None) as sb:
        work, t = start("apply", "--sandbox", sb.dir)
        with t:
            walk_to_summary(t, "full")
            capture(t, "summary-apply", ["<Apply>"])
            t.keys("F12")
            # The progress screen is usually gone too fast to see; the report stays.
            screen = t.wait_for("ready", timeout=300)
            title = "Ready" if "┤ Ready ├" in screen or "| Ready |" in screen else "Not ready"
            capture(t, "report", ["<OK>"])
            t.keys("Enter")
            rc = t.wait_exit()
        profile = os.path.join(sb.dir, "etc", "firstboot", "profile.yaml")
        doc = yaml.safe_load(private_file(profile))
        harness.check(verify(ADMIN_PASSWORD, doc["users"][0]["password_hash"]), doc)
        status = sb.firstboot("status")
        harness.check(rc == status.returncode,
                      f"wizard exited {rc}, status {status.returncode} ({title})\n{status.stdout}")
        harness.check(os.path.isdir(os.path.join(sb.dir, "var", "lib", "firstboot")),
                      "the apply left no state journal")


harness.main(globals())
