"""The `async with` shared by koe's microphones and speakers, live and file-backed."""

from __future__ import annotations

from typing import Self


class StartsAndCloses:
    """`async with` starts it, and closes it however the block ends."""

    async def start(self) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
