"""One module per `koe` command; each exposes register(subparsers)."""
