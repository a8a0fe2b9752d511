#!/usr/bin/python3
"""A tiny IMAP4rev1 server for the probe unit tests: CAPABILITY, STARTTLS, implicit TLS, LOGIN,
SELECT, UID SEARCH HEADER, UID FETCH BODY.PEEK[], UID STORE +FLAGS, EXPUNGE, NOOP, LOGOUT.
The mailbox starts with the files given by --message. Prints "PORT <n>"; exits after --lifetime."""
import argparse
import asyncio
import email.parser
import re
import ssl
import sys


class Mailbox:
    def __init__(self, messages):
        self.messages = []  # [uid, bytes, deleted]
        self.next_uid = 1
        for m in messages:
            self.add(m)

    def add(self, data):
        self.messages.append([self.next_uid, data, False])
        self.next_uid += 1


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--implicit-tls", action="store_true")
    p.add_argument("--user", default="probe@example.com")
    p.add_argument("--password", default="secret")
    p.add_argument("--message", action="append", default=[])
    p.add_argument("--lifetime", type=float, default=60)
    args = p.parse_args()

    context = None
    if args.cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.cert, args.key)
    box = Mailbox([open(f, "rb").read().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
                   for f in args.message])

    async def session(reader, writer):
        tls = args.implicit_tls
        authed = False

        def caps():
            c = "IMAP4rev1 UIDPLUS"
            if context and not tls:
                c += " STARTTLS LOGINDISABLED"
            return c

        writer.write(("* OK [CAPABILITY %s] test server ready\r\n" % caps()).encode())
        await writer.drain()
        while True:
            line = await reader.readline()
            if not line:
                break
            text = line.decode("utf-8", "replace").rstrip("\r\n")
            # A synchronizing literal: "{N}" at the end of the line.
            while True:
                m = re.search(r"\{(\d+)\}$", text)
                if not m:
                    break
                writer.write(b"+ go ahead\r\n")
                await writer.drain()
                data = await reader.readexactly(int(m.group(1)))
                rest = (await reader.readline()).decode().rstrip("\r\n")
                text = text[:m.start()] + '"' + data.decode().replace("\\", "\\\\").replace(
                    '"', '\\"') + '"' + rest
            tag, _, rest = text.partition(" ")
            cmd, _, arg = rest.partition(" ")
            cmd = cmd.upper()
            out = []
            status = "OK done"
            if cmd == "CAPABILITY":
                out.append("* CAPABILITY " + caps())
            elif cmd == "NOOP":
                pass
            elif cmd == "STARTTLS" and context and not tls:
                writer.write(("%s OK begin TLS\r\n" % tag).encode())
                await writer.drain()
                await writer.start_tls(context)
                tls = True
                continue
            elif cmd == "LOGIN":
                parts = re.findall(r'"((?:[^"\\]|\\.)*)"|(\S+)', arg)
                vals = [(q.replace('\\"', '"').replace("\\\\", "\\") if q else a) for q, a in parts]
                if context and not tls:
                    status = "NO [PRIVACYREQUIRED] LOGIN needs TLS"
                elif len(vals) == 2 and vals[0] == args.user and vals[1] == args.password:
                    authed = True
                else:
                    status = "NO [AUTHENTICATIONFAILED] Authentication failed."
            elif cmd == "LOGOUT":
                writer.write(("* BYE logging out\r\n%s OK bye\r\n" % tag).encode())
                await writer.drain()
                break
            elif not authed:
                status = "NO not logged in"
            elif cmd == "SELECT":
                out.append("* %d EXISTS" % len(box.messages))
                out.append("* FLAGS (\\Deleted \\Seen)")
                status = "OK [READ-WRITE] selected"
            elif cmd == "EXPUNGE":
                for i in reversed(range(len(box.messages))):
                    if box.messages[i][2]:
                        out.append("* %d EXPUNGE" % (i + 1))
                        del box.messages[i]
            elif cmd == "UID":
                sub, _, uarg = arg.partition(" ")
                sub = sub.upper()
                if sub == "SEARCH":
                    m = re.match(r'HEADER "([^"]*)" "([^"]*)"', uarg, re.I)
                    found = []
                    for uid, data, _ in box.messages:
                        msg = email.parser.BytesHeaderParser().parsebytes(data)
                        if m and m.group(2).lower() in str(msg.get(m.group(1), "")).lower():
                            found.append(str(uid))
                    out.append("* SEARCH " + " ".join(found))
                elif sub == "FETCH":
                    uid = int(uarg.split(" ")[0])
                    for i, (u, data, _) in enumerate(box.messages):
                        if u == uid:
                            writer.write(("* %d FETCH (UID %d BODY[] {%d}\r\n" %
                                          (i + 1, u, len(data))).encode() + data + b")\r\n")
                elif sub == "STORE":
                    uids = {int(x) for x in uarg.split(" ")[0].split(",")}
                    for msg in box.messages:
                        if msg[0] in uids:
                            msg[2] = True
                else:
                    status = "BAD unknown UID command"
            else:
                status = "BAD unknown command"
            for o in out:
                writer.write((o + "\r\n").encode())
            writer.write(("%s %s\r\n" % (tag, status)).encode())
            await writer.drain()
        writer.close()

    async def run():
        server = await asyncio.start_server(session, "127.0.0.1", 0,
                                            ssl=context if args.implicit_tls else None)
        print("PORT", server.sockets[0].getsockname()[1], flush=True)
        await asyncio.sleep(args.lifetime)
        server.close()

    asyncio.run(run())


if __name__ == "__main__":
    sys.exit(main())
