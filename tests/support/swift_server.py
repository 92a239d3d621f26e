"""
OpenStack Swift (Debian's python3-swift) as an S3-protocol server for tests: proxy with the s3api
and tempauth middlewares in front of one account, container and object server, one replica, all
on 127.0.0.1 ports the kernel picks, data under the directory given as argv[1].

Started by tests/support/swift.ts. The four servers run as green threads of this one process, the
way Swift's own in-process functional tests run them: four Python interpreters importing Swift
cost four times the start-up on a busy CI machine. Rings are built with Swift's RingBuilder (the
library behind swift-ring-builder) in this process for the same reason.

Prints one JSON line {"port": <proxy port>} once every server listens, then serves until killed.
"""
import json
import os
import sys

import eventlet

eventlet.monkey_patch()

from swift.common.http_protocol import SwiftHttpProtocol  # noqa: E402
from swift.common.ring import RingBuilder  # noqa: E402
from swift.common import utils  # noqa: E402
from swift.common.wsgi import loadapp  # noqa: E402
from eventlet import wsgi  # noqa: E402

root = sys.argv[1]
etc = os.path.join(root, "etc")
devices = os.path.join(root, "srv")
os.makedirs(etc, exist_ok=True)
os.makedirs(os.path.join(devices, "d1"), exist_ok=True)

with open(os.path.join(etc, "swift.conf"), "w") as f:
    f.write("""[swift-hash]
swift_hash_path_suffix = pipevideo-test
swift_hash_path_prefix = pipevideo-test
[storage-policy:0]
name = Policy-0
default = yes
""")
utils.validate_configuration()
utils.set_swift_dir(etc)

socks = {n: eventlet.listen(("127.0.0.1", 0)) for n in ("proxy", "account", "container", "object")}
port = {n: s.getsockname()[1] for n, s in socks.items()}

for name in ("account", "container", "object"):
    builder = RingBuilder(4, 1, 1)  # 2^4 partitions, 1 replica, min_part_hours 1
    builder.add_dev({"id": 0, "region": 1, "zone": 1, "ip": "127.0.0.1", "port": port[name],
                     "device": "d1", "weight": 1, "meta": ""})
    builder.rebalance()
    ring_file = "object.ring.gz" if name == "object" else f"{name}.ring.gz"
    builder.get_ring().save(os.path.join(etc, ring_file))

    with open(os.path.join(etc, f"{name}-server.conf"), "w") as f:
        f.write(f"""[DEFAULT]
devices = {devices}
mount_check = false
swift_dir = {etc}
log_level = WARNING
[pipeline:main]
pipeline = {name}-server
[app:{name}-server]
use = egg:swift#{name}
""")

with open(os.path.join(etc, "proxy-server.conf"), "w") as f:
    f.write(f"""[DEFAULT]
swift_dir = {etc}
log_level = WARNING
[pipeline:main]
pipeline = catch_errors s3api tempauth slo proxy-server
[filter:catch_errors]
use = egg:swift#catch_errors
[filter:s3api]
use = egg:swift#s3api
location = us-east-1
[filter:tempauth]
use = egg:swift#tempauth
user_test_tester = testing .admin
[filter:slo]
use = egg:swift#slo
[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true
""")


class DictCache:
    """What memcache would be for tempauth and the proxy's info cache, in this process."""

    def __init__(self):
        self.d = {}

    def get(self, key, raise_on_error=False):
        return self.d.get(key)

    def set(self, key, value, serialize=True, time=0, min_compress_len=0, raise_on_error=False):
        self.d[key] = value

    def incr(self, key, delta=1, time=0):
        self.d[key] = int(self.d.get(key, 0)) + delta
        return self.d[key]

    def decr(self, key, delta=1, time=0):
        return self.incr(key, -delta, time)

    def delete(self, key, server_key=None):
        self.d.pop(key, None)


cache = DictCache()


def with_cache(app):
    def wrapped(env, start_response):
        env["swift.cache"] = cache
        return app(env, start_response)
    return wrapped


pool = eventlet.GreenPool()
for name, sock in socks.items():
    app = with_cache(loadapp(os.path.join(etc, f"{name}-server.conf"),
                             global_conf={"log_name": name}))
    # As swift.common.wsgi.run_server does; "ETag", not "Etag", for S3 clients.
    pool.spawn(wsgi.server, sock, app, protocol=SwiftHttpProtocol,
               capitalize_response_headers=False, log_output=False)

print(json.dumps({"port": port["proxy"]}), flush=True)
pool.waitall()
