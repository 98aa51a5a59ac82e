# Support for hostname-endpoint tests: the load balancers' zone (lb.test) served
# by a real knotd that a test edits and reloads, a "resolver" that never answers,
# and the zone and server config of the failover example with hostname pools.
import json
import os
import socket
import tempfile
import textwrap
from pathlib import Path

import knot_server
import signpost_test as st


class LbZone:
    """The master file of `origin` (default lb.test) served by a knotd of our own.

    records: {"eu": ("A", "127.0.0.10", ttl), ...} (one record per label; a label
    mapped to None is absent). Every publish() writes the file with a higher SOA
    serial and reloads knotd, then waits until knotd serves that serial, so the
    next query to knotd sees the edit."""

    def __init__(self, records, origin="lb.test", negative_ttl=1, label="knotd (lb.test)"):
        self.origin = origin.rstrip(".")
        self.records = dict(records)
        self.negative_ttl = negative_ttl
        self.serial = 1
        self.dir = Path(tempfile.mkdtemp(prefix="signpost-lbzone-"))
        self.file = self.dir / f"{self.origin}.zone"
        self._write()
        self.knot = knot_server.Knot({self.origin: self.file}, label=label)

    def text(self):
        o = self.origin + "."
        lines = [f"$ORIGIN {o}",
                 f"@ 3600 IN SOA ns.{o} hostmaster.{o} {self.serial} 3600 600 86400 {self.negative_ttl}",
                 "@ 3600 IN NS ns",
                 "ns 3600 IN A 127.0.0.1"]
        for label, rr in self.records.items():
            if rr is None:
                continue
            rtype, rdata, ttl = rr
            lines.append(f"{label} {ttl} IN {rtype} {rdata}")
        return "\n".join(lines) + "\n"

    def _write(self):
        tmp = self.file.with_suffix(".tmp")
        tmp.write_text(self.text())
        os.replace(tmp, self.file)

    @property
    def port(self):
        return self.knot.port

    @property
    def resolver(self):
        """The `resolvers` entry for signpost's server config."""
        return f"127.0.0.1:{self.knot.port}"

    def start(self, port=None):
        self.knot.start(port=port)
        return self

    def stop(self):
        self.knot.stop()

    def restart(self):
        """Starts knotd again on the port it had (signpost's config names it)."""
        self.knot.start(port=self.knot.port)

    def publish(self, **changes):
        """publish(eu=("A", "127.0.0.12", 10)) or publish(eu=None): edits, bumps the
        serial, reloads knotd and waits until it serves the new serial."""
        self.records.update(changes)
        self.serial += 1
        self._write()
        self.knot.reload(self.origin, serial=self.serial)

    def cleanup(self):
        self.knot.cleanup()
        import shutil
        shutil.rmtree(self.dir, ignore_errors=True)


class SilentResolver:
    """A UDP socket (and a TCP listener that never accepts) on 127.0.0.1 that reads
    nothing: every query to it times out. Bind on `port` to take over the port of
    a stopped knotd."""

    def __init__(self, port=0):
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", port))
        self.port = self.udp.getsockname()[1]
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            self.tcp.bind(("127.0.0.1", self.port))
            self.tcp.listen(1)
        except OSError:
            self.tcp.close()
            self.tcp = None

    @property
    def resolver(self):
        return f"127.0.0.1:{self.port}"

    def close(self):
        self.udp.close()
        if self.tcp is not None:
            self.tcp.close()


HOSTNAME_ZONE = """\
origin = "example.com"
ttl = 300

[soa]
mname = "ns1.example.com."
rname = "hostmaster.example.com."

[records."@"]
NS = ["ns1"]

[records.ns1]
A = "127.0.0.1"

[checks.health]
kind = "http"
path = "/health"
port = {port}
interval = "1s"
timeout = "1s"
fall = 3
rise = 2
fast_interval = "200ms"
{check_extra}
[pools.primary]
endpoints = [{primary}]
checks = ["health"]

[pools.secondary]
endpoints = [{secondary}]
checks = ["health"]

[services.site]
names = ["@", "www", "*"]
policy = "failover"
pools = ["primary", "secondary"]
ttl = {ttl}
failback = "auto"
{service_extra}
"""


def hostname_zone(port, primary=("eu.lb.test",), secondary=("us.lb.test",), ttl=30,
                  check_extra="", service_extra=""):
    """The failover example (examples/failover) with its pools' endpoints replaced:
    by default primary = ["eu.lb.test"], secondary = ["us.lb.test"]."""
    q = lambda xs: ", ".join(json.dumps(x) for x in xs)
    return HOSTNAME_ZONE.format(port=port, primary=q(primary), secondary=q(secondary), ttl=ttl,
                                check_extra=check_extra, service_extra=service_extra)


def resolver_config(resolvers, min_ttl="1s", max_ttl=None, timeout=None, extra=""):
    """Server config lines (TOML) for the resolver keys."""
    lines = ["resolvers = [" + ", ".join(json.dumps(r) for r in resolvers) + "]"]
    if min_ttl is not None:
        lines.append(f'resolve_min_ttl = "{min_ttl}"')
    if max_ttl is not None:
        lines.append(f'resolve_max_ttl = "{max_ttl}"')
    if timeout is not None:
        lines.append(f'resolve_timeout = "{timeout}"')
    return "\n".join(lines) + "\n" + textwrap.dedent(extra)


def flattened_ttl(service_ttl, record_ttl, min_ttl=1, max_ttl=3600):
    """The TTL of a flattened answer under the documented rule: re-resolution at half
    the record TTL, within [min_ttl, max_ttl]; the answer carries the record TTL left
    at that re-resolution (at least 1 s), never more than the service TTL."""
    refresh = min(max(record_ttl / 2, min_ttl), max_ttl)
    left = max(1, int(record_ttl - refresh))
    return min(service_ttl, left)
