"""An FTP server for Relay's adapter tests (pyftpdlib from Debian's python3-pyftpdlib).

Serves --root on 127.0.0.1:--port. The user --user/--password may write everywhere except the folder
'readonly' (there STOR gets '550 Not enough privileges.'); anonymous may write into 'public'. With --cert and
--key it is an FTPS server that requires explicit TLS (AUTH TLS, PROT P) on both connections. The first upload of
a file whose name contains 'flaky' is stored and then answered '451' instead of '226', as a server that loses
its reply after the write: the client's retry must overwrite that file. The server ends when its parent does.
"""
import argparse
import logging
import os
import sys
import threading
import time

from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler, TLS_FTPHandler
from pyftpdlib.servers import FTPServer

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, required=True)
parser.add_argument("--root", required=True)
parser.add_argument("--user", default="relay")
parser.add_argument("--password", default="secret")
parser.add_argument("--cert")
parser.add_argument("--key")
args = parser.parse_args()

logging.basicConfig(level=logging.WARNING, stream=sys.stderr)

for folder in ("readonly", "public", "inbox"):
    os.makedirs(os.path.join(args.root, folder), exist_ok=True)

authorizer = DummyAuthorizer()
authorizer.add_user(args.user, args.password, args.root, perm="elradfmwMT")
authorizer.override_perm(args.user, os.path.join(args.root, "readonly"), perm="elr", recursive=True)
authorizer.add_anonymous(os.path.join(args.root, "public"), perm="elrw")

base = TLS_FTPHandler if args.cert else FTPHandler


class Handler(base):
    failed_once = set()

    def ftp_STOR(self, file, mode="w"):
        self._relay_stored = file
        return super().ftp_STOR(file, mode)

    def respond(self, resp, logfun=logging.debug):
        name = getattr(self, "_relay_stored", None)
        if name and resp.startswith("226") and "flaky" in os.path.basename(name) and name not in Handler.failed_once:
            Handler.failed_once.add(name)
            resp = "451 Simulated failure after the file was stored."
        return super().respond(resp, logfun)


Handler.authorizer = authorizer
Handler.banner = "Relay test FTP server ready."
# A refused login is answered at once, not after the default 3 s.
Handler.auth_failed_timeout = 0.05
if args.cert:
    Handler.certfile = args.cert
    Handler.keyfile = args.key
    Handler.tls_control_required = True
    Handler.tls_data_required = True

server = FTPServer(("127.0.0.1", args.port), Handler)

parent = os.getppid()


def watch_parent():
    while True:
        time.sleep(0.5)
        if os.getppid() != parent:
            os._exit(0)


threading.Thread(target=watch_parent, daemon=True).start()
print("ready", flush=True)
server.serve_forever(handle_exit=False)
