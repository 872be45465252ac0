"""The Kamailio SIP edge in front of the Asterisk fleet: its routing map and its rendered files.

`edge_map(repo)` says where every DID, tenant and carrier goes; `render_edges(repo)` writes
build/<edge>/ (kamailio.cfg, db_text tables Kamailio reloads at run time, dispatcher.list);
`map_changes(old, new)` is the part of a plan that moves DIDs and tenants between servers.
"""

from pabx.edge.model import EdgeMap, MapChange, edge_hosts, edge_map, map_changes, set_id

# pabx.edge.render (Jinja) is imported by who renders: validation needs only the model.

__all__ = [
    "EdgeMap",
    "MapChange",
    "edge_hosts",
    "edge_map",
    "map_changes",
    "set_id",
]
