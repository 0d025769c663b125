"""meshclient: Python client of a local meshd node (proto/client.proto over the node's
SOCK_SEQPACKET control socket; see doc/client-api.md).

    from meshclient import Client
    with Client("/run/meshd/n1.sock") as c:
        c.put(b"worker:a", b"alpha")
        print(c.get(b"worker:a").value)

AsyncClient is the asyncio flavour with the same calls.
"""
from ._proto import (BatchResult, Cluster, Event, Hello, MemberEvent, MeshError, Member,
                     Value, default_socket)
from .aio import AsyncClient, Watch
from .client import Client, SyncWatch

__all__ = ["AsyncClient", "BatchResult", "Client", "Cluster", "Event", "Hello", "MemberEvent",
           "MeshError", "Member", "SyncWatch", "Value", "Watch", "default_socket"]
