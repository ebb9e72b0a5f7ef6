"""Signs in over wss:// through nginx (deploy/nginx-users.conf) in front of a
real bridge, and checks who may read /healthz through it.

usage: through_nginx.py PORT CA_FILE PASSWORD
"""
import asyncio
import http.client
import json
import ssl
import sys

import websockets

port, ca_file, password = int(sys.argv[1]), sys.argv[2], sys.argv[3]
tls = ssl.create_default_context(cafile=ca_file)


async def sign_in():
    async with websockets.connect(f"wss://127.0.0.1:{port}/ws", ssl=tls) as ws:
        await ws.send(json.dumps({"action": "login", "request_id": 1,
                                  "credentials": {"username": "admin", "password": password}}))
        reply = json.loads(await ws.recv())
        assert reply["status"] == "success", reply
        assert reply["session_token"], reply
        print("signed in over wss through nginx")


def healthz(source):
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=tls, source_address=(source, 0))
    conn.request("GET", "/healthz")
    status = conn.getresponse().status
    conn.close()
    return status


asyncio.run(sign_in())
assert healthz("127.0.0.1") == 200, "loopback reads /healthz"
assert healthz("127.0.0.2") == 403, "anyone else is refused /healthz"
print("healthz: loopback only")
