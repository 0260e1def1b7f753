-- expect: src_port, wrong number of arguments
-- pktgen.range.src_port takes a port list, start|min|max|inc and a value.
pktgen.range.src_port("0", 1024)
