"""Helpers for the dns end-to-end tests: dig against the sandbox server, DKIM keys on disk, PIDs."""
import base64
import json
import os
import subprocess

from harness import Failure, check, run_cmd

DNS_PORT = 5353


def dig(name, rtype, *extra, port=DNS_PORT):
    """The answer section of `dig @127.0.0.1 -p PORT NAME TYPE +short` as a list of lines."""
    out = run_cmd(["dig", "@127.0.0.1", "-p", str(port), "+short", "+time=2", "+tries=2",
                   *extra, name, rtype], timeout=30)
    if out.returncode != 0:
        raise Failure(f"dig {name} {rtype} failed: {out.stdout}{out.stderr}")
    return [line for line in out.stdout.splitlines() if line.strip()]


def txt(name, port=DNS_PORT):
    """Each TXT record at name as one string (its character-strings joined)."""
    values = []
    for line in dig(name, "TXT", port=port):
        # +short prints "a" "b" ... per record: join the quoted strings.
        parts, cur, inside, esc = [], "", False, False
        for ch in line:
            if esc:
                cur += ch
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                if inside:
                    parts.append(cur)
                    cur = ""
                inside = not inside
            elif inside:
                cur += ch
        values.append("".join(parts))
    return values


def soa_serial(domain, port=DNS_PORT):
    answer = dig(domain, "SOA", port=port)
    check(len(answer) == 1, f"SOA of {domain}: {answer}")
    return int(answer[0].split()[2])


def dkim_public_key(private_key_file):
    """The p= value for a DKIM key file: base64 SubjectPublicKeyInfo (RSA) or the raw 32-byte key
    (Ed25519, RFC 8463), computed with openssl independently of firstboot."""
    der = subprocess.run(["openssl", "pkey", "-in", private_key_file, "-pubout", "-outform", "DER"],
                         capture_output=True, check=True, timeout=30).stdout
    text = subprocess.run(["openssl", "pkey", "-in", private_key_file, "-noout", "-text"],
                          capture_output=True, text=True, check=True, timeout=30).stdout
    if "ED25519" in text.upper().split("\n", 1)[0]:
        return "ed25519", base64.b64encode(der[-32:]).decode()
    return "rsa", base64.b64encode(der).decode()


def service_pid(sb, name):
    path = sb.path(f"run/firstboot/services/{name}.json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)["pid"]


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    with open(f"/proc/{pid}/stat") as f:
        return f.read().split(")")[-1].split()[0] != "Z"


def status_checks(sb):
    out = sb.firstboot("status", "--json")
    doc = json.loads(out.stdout)
    checks = {}
    for module in doc["modules"]:
        for c in module.get("checks", []):
            checks[c["id"]] = c
    return doc, checks


def load_zone_with_dnspython(origin, path):
    import dns.zone  # python3-dnspython
    return dns.zone.from_file(path, origin=origin, relativize=False, check_origin=True)
