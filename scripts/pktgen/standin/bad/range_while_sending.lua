-- expect: port 0 is sending
-- pktgen ignores range settings on a port that sends.
pktgen.start("0")
pktgen.range.dst_port("0", "start", 80)
