#!/usr/bin/env python3
"""The scale case's data, for bench/dns_bench.sh and bench/memory_bench.sh: NZ zones
zone<z>.example of NN names each (apex, ns1, host0..host<NN-3>), as signpost TOML in
ROOT/toml, as master files in ROOT/knot with their Knot zone list in ROOT/knot.yaml,
and ROOT/names.txt: queries for dnsperf (a hit and a miss in every thousandth zone).

    bench/scale_zones.py ROOT NZ NN
"""
import os
import sys

root, nz, nn = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
os.makedirs(root + "/toml")
os.makedirs(root + "/knot")
names = []
with open(root + "/knot.yaml", "w") as kz:
    for z in range(nz):
        origin = "zone%d.example" % z
        kz.write("  - domain: %s\n" % origin)
        recs = ["host%d" % i for i in range(nn - 2)]
        with open("%s/toml/%s.toml" % (root, origin), "w") as f:
            f.write('origin = "%s"\nttl = 300\n\n[soa]\nmname = "ns1.%s."\nrname = "hostmaster.%s."\nserial = 1\n\n'
                    '[records."@"]\nNS = ["ns1"]\nA = "192.0.2.1"\n\n[records.ns1]\nA = "192.0.2.2"\n' % (origin, origin, origin))
            for i, r in enumerate(recs):
                f.write('\n[records.%s]\nA = "198.51.100.%d"\n' % (r, i % 250 + 1))
        with open("%s/knot/%s.zone" % (root, origin), "w") as f:
            f.write("$ORIGIN %s.\n$TTL 300\n@ SOA ns1 hostmaster 1 7200 1800 259200 300\n@ NS ns1\n@ A 192.0.2.1\n"
                    "ns1 A 192.0.2.2\n" % origin)
            for i, r in enumerate(recs):
                f.write("%s A 198.51.100.%d\n" % (r, i % 250 + 1))
        if z % (max(nz // 1000, 1)) == 0:
            names.append("host%d.%s A" % (z % (nn - 2), origin))
            names.append("nothing.%s A" % origin)
with open(root + "/names.txt", "w") as f:
    f.write("\n".join(names) + "\n")
