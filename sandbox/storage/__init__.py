"""Storage: worlds, tables, indexes, the write journal, TinyDB files, templates, snapshots, the request journal. No Flask."""
