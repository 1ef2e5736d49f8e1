"""Who may talk to `koe serve`: anyone on this machine, or, bound elsewhere, bearers of the key.

Bound to loopback (the default) no key is needed. Binding any other address needs
`--api-key-env NAME`, and then every request must carry `Authorization: Bearer <$NAME>`.
"""

from __future__ import annotations

import hmac
import os
from dataclasses import dataclass

from koe.config.errors import KoeError

LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})
DEFAULT_HOST = "127.0.0.1"


@dataclass(frozen=True)
class Access:
    host: str = DEFAULT_HOST
    port: int = 0
    api_key: str | None = None

    @classmethod
    def resolve(cls, host: str, port: int, api_key_env: str | None) -> Access:
        """The bind address and key, or a KoeError saying what is missing."""
        if not 0 <= port <= 65535:
            raise KoeError(f"port {port} is not a TCP port", "use 1-65535, or 0 for any free one")
        key = None
        if api_key_env:
            key = os.environ.get(api_key_env, "").strip()
            if not key:
                raise KoeError(f"the API key variable {api_key_env} is not set or is empty",
                               f"export {api_key_env}=<a long random secret> first")
        elif host not in LOOPBACK:
            raise KoeError(f"binding {host} would let other machines in without a key",
                           "add --api-key-env NAME (clients then send Authorization: Bearer "
                           "<$NAME>), or keep the default 127.0.0.1")
        return cls(host, port, key)

    def allows(self, authorization: str | None) -> bool:
        """Whether a request with this Authorization header may go on."""
        if self.api_key is None:
            return True
        scheme, _, token = (authorization or "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(
            token.strip().encode(), self.api_key.encode())


def bind_error(access: Access, exc: OSError) -> KoeError:
    """A failed bind, said in one line."""
    reason = exc.strerror or str(exc)
    return KoeError(f"cannot listen on {access.host}:{access.port}: {reason}",
                    "choose another --port (0 picks a free one)" if "in use" in reason
                    else "check --host: an address of this machine, e.g. 127.0.0.1 or 0.0.0.0")
