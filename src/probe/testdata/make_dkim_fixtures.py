#!/usr/bin/python3
"""Regenerates the DKIM fixtures in dkim/ with dkimpy (an independent implementation), so the C++
verifier is tested against signatures it did not make. Run once; the output is committed."""
import base64
import json
import os
import subprocess

import dkim
import nacl.signing

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "dkim")

MESSAGE = (b"From: Alice Example <alice@example.com>\r\n"
           b"To: bob@example.net\r\n"
           b"Subject:   a  folded\r\n"
           b"\tsubject line   \r\n"
           b"Date: Tue, 01 Oct 2024 10:00:00 +0000\r\n"
           b"Message-ID: <fixture-1@example.com>\r\n"
           b"MIME-Version: 1.0\r\n"
           b"Content-Type: text/plain; charset=utf-8\r\n"
           b"\r\n"
           b"Hello Bob,  \r\n"
           b"\r\n"
           b"this line has   inner   spaces\t and a tab.\r\n"
           b".a line starting with a dot\r\n"
           b"\r\n"
           b"\r\n")

HEADERS = [b"from", b"to", b"subject", b"date", b"message-id", b"mime-version", b"content-type"]


def main():
    os.makedirs(HERE, exist_ok=True)
    rsa_pem = subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
                              "rsa_keygen_bits:2048"], capture_output=True, check=True).stdout
    rsa_pub = subprocess.run(["openssl", "pkey", "-pubout", "-outform", "DER"], input=rsa_pem,
                             capture_output=True, check=True).stdout
    ed = nacl.signing.SigningKey.generate()
    ed_priv = base64.b64encode(bytes(ed))
    ed_pub = base64.b64encode(bytes(ed.verify_key)).decode()
    keys = {
        "rsa._domainkey.example.com": "v=DKIM1; k=rsa; p=" + base64.b64encode(rsa_pub).decode(),
        "ed._domainkey.example.com": "v=DKIM1; k=ed25519; p=" + ed_pub,
    }
    cases = {
        "rsa-relaxed-relaxed": (b"rsa", rsa_pem, b"rsa-sha256", (b"relaxed", b"relaxed")),
        "rsa-simple-simple": (b"rsa", rsa_pem, b"rsa-sha256", (b"simple", b"simple")),
        "rsa-relaxed-simple": (b"rsa", rsa_pem, b"rsa-sha256", (b"relaxed", b"simple")),
        "ed25519-relaxed-relaxed": (b"ed", ed_priv, b"ed25519-sha256", (b"relaxed", b"relaxed")),
        "ed25519-simple-simple": (b"ed", ed_priv, b"ed25519-sha256", (b"simple", b"simple")),
    }
    for name, (selector, key, algo, canon) in cases.items():
        sig = dkim.sign(MESSAGE, selector, b"example.com", key, include_headers=HEADERS,
                        canonicalize=canon, signature_algorithm=algo)
        with open(os.path.join(HERE, name + ".eml"), "wb") as f:
            f.write(sig + MESSAGE)
    # Both signatures on one message, as the mail module's two chained signers produce.
    first = dkim.sign(MESSAGE, b"rsa", b"example.com", rsa_pem, include_headers=HEADERS,
                      canonicalize=(b"relaxed", b"relaxed"))
    second = dkim.sign(first + MESSAGE, b"ed", b"example.com", ed_priv, include_headers=HEADERS,
                       canonicalize=(b"relaxed", b"relaxed"), signature_algorithm=b"ed25519-sha256")
    with open(os.path.join(HERE, "dual.eml"), "wb") as f:
        f.write(second + first + MESSAGE)
    with open(os.path.join(HERE, "keys.json"), "w") as f:
        json.dump(keys, f, indent=1)
    # dkimpy must agree with itself on every fixture.
    for name in list(cases) + ["dual"]:
        data = open(os.path.join(HERE, name + ".eml"), "rb").read()
        dns = lambda qname, timeout=5: keys[qname.decode().rstrip(".")].encode()  # noqa: E731
        assert dkim.verify(data, dnsfunc=dns), name


if __name__ == "__main__":
    main()
