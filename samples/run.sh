#!/bin/sh
# The README's main command (npm run sample): the latency breakdown of the bundled samples.
# 1. a real capture from this machine's virtio disk, stock tracepoints (profile linux-block);
# 2. a simulated Xen guest on blktap2: guest kernel, dom0 kernel and tapdisk's xtbuf dump,
#    three clocks whose offsets xtrace estimates (profile xen-blktap2).
# Each report is also written as a self-contained HTML page of pictures under sample-reports/.
set -e
cd "$(dirname "$0")/.."
x() { node dist/src/cli/main.js "$@"; }
rm -f samples.db samples-xen.db
mkdir -p sample-reports/linux-block sample-reports/xen-blktap2
x ingest --db samples.db samples/linux-block-default/trace.txt.gz
x report --db samples.db --profile linux-block
x report --db samples.db --profile linux-block --format html --out sample-reports/linux-block/report.html
echo
x ingest --db samples-xen.db --domain domU samples/sim-blktap2/guest.trace.gz
x ingest --db samples-xen.db --domain dom0 samples/sim-blktap2/dom0.trace.gz
x ingest --db samples-xen.db --domain tapdisk samples/sim-blktap2/tapdisk.xtbuf.gz
x report --db samples-xen.db --profile xen-blktap2
x report --db samples-xen.db --profile xen-blktap2 --format html --out sample-reports/xen-blktap2/report.html
echo
echo "pictures: sample-reports/linux-block/report.html and sample-reports/xen-blktap2/report.html (open them in a browser)" >&2
