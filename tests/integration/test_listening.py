"""Every process of the stack listens on the loopback interface only, unless told
otherwise (`hotro run --host`): nothing is reachable from the network by default."""
from __future__ import annotations

from pathlib import Path
from typing import List

LISTEN = "0A"  # TCP state in /proc/net/tcp


def listening_addresses(port: int) -> List[str]:
    """The local addresses (hex, as the kernel writes them) that listen on `port`."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            address, port_hex = fields[1].rsplit(":", 1)
            if fields[3] == LISTEN and int(port_hex, 16) == port:
                found.append(address)
    return found


def test_every_process_listens_on_127_0_0_1_only(stack):
    loopback = "0100007F"  # 127.0.0.1, little-endian hex
    for name, port in (("action server", stack.action_port), ("rasa server", stack.rasa_port),
                       ("console", stack.console_port)):
        addresses = listening_addresses(port)
        assert addresses, f"nothing listens on the {name}'s port {port}"
        assert set(addresses) == {loopback}, (
            f"the {name} listens on {addresses} (00000000 is every interface), "
            f"not only on 127.0.0.1")
