"""What one memory is, and how it is laid out in chromadb (document + flat metadata)."""

from __future__ import annotations

import re
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from koe.memory.when.timestamps import (
    CheckedTime,
    check_timestamp,
    checked_timestamp,
    stored_timestamp,
)

ROLES = ("user", "assistant", "summary")
SOURCES = ("voice", "text", "import", "recording", "realtime")  # realtime: `koe serve`
# Entries that index later pieces of a long text have ids "<memory id>#<piece>".
PIECE_SEP = "#"
SECONDS_PER_DAY = 86400


@dataclass(frozen=True)
class MemoryRecord:
    id: str
    text: str
    role: str  # "user" | "assistant" | "summary"
    conversation: str
    timestamp: float  # UTC epoch seconds
    user: str = "default"
    source: str = "voice"  # voice | text | import | recording
    interrupted: bool = False
    spoken: str | None = None  # assistant turns: what was actually played
    recording: str | None = None  # source "recording": the file's name
    offset: float | None = None  # source "recording": seconds into the file

    @property
    def time(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp, UTC)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for name in ("recording", "offset"):  # only memories of recordings have them
            if data[name] is None:
                del data[name]
        data["time"] = self.time.isoformat()
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MemoryRecord:
        """The inverse of to_json; raises ValueError naming what is wrong."""
        return cls.from_json_noted(data)[0]

    @classmethod
    def from_json_noted(cls, data: dict[str, Any]) -> tuple[MemoryRecord, str]:
        """from_json, plus a note when a value was read other than as given (milliseconds)."""
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        missing = [k for k in ("id", "text", "role", "conversation") if k not in data]
        if missing:
            raise ValueError(f"missing {', '.join(missing)}")
        if "timestamp" in data:
            checked = checked_timestamp(data["timestamp"])
        elif "time" in data:
            # An ISO time says what it means: no milliseconds guess for it.
            checked = CheckedTime(check_timestamp(parse_time(str(data["time"])).timestamp()))
        else:
            raise ValueError("missing timestamp")
        record = cls(
            id=str(data["id"]), text=str(data["text"]), role=str(data["role"]),
            conversation=str(data["conversation"]), timestamp=checked.timestamp,
            user=str(data.get("user") or "default"), source=str(data.get("source") or "import"),
            interrupted=bool(data.get("interrupted", False)),
            spoken=None if data.get("spoken") is None else str(data["spoken"]),
            recording=None if data.get("recording") is None else str(data["recording"]),
            offset=_offset(data.get("offset")))
        record.validate()
        return record, checked.note

    def validate(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}, not {self.role!r}")
        if not self.id or PIECE_SEP in self.id:
            raise ValueError(f"bad id {self.id!r} (empty or containing {PIECE_SEP!r})")
        if not self.text.strip():
            raise ValueError("empty text")
        if not self.conversation:
            raise ValueError("empty conversation id")
        check_timestamp(self.timestamp)
        if self.recording is not None and not self.recording.strip():
            raise ValueError("empty recording name")
        if self.offset is not None and not 0 <= self.offset < 1e7:
            raise ValueError(f"offset must be seconds into the recording, not {self.offset}")
        for name in ("text", "conversation", "user", "spoken", "id", "recording"):
            _check_utf8(name, getattr(self, name))


def _offset(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"offset must be a number of seconds, not {value!r}")
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"offset must be a number of seconds, not {value!r}") from None


def _check_utf8(name: str, value: str | None) -> None:
    """Text that cannot be stored as UTF-8: bytes a terminal or file passed through
    undecoded (Python keeps them as lone surrogates)."""
    if value is None:
        return
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        char = ord(value[exc.start])
        what = f"byte 0x{char - 0xDC00:02x}" if 0xDC80 <= char <= 0xDCFF else f"U+{char:04X}"
        raise ValueError(f"{name} is not valid UTF-8 ({what} at character {exc.start})"
                         ) from None


def new_id() -> str:
    return uuid.uuid4().hex


def parse_time(text: str) -> datetime:
    """ISO 8601; a time without a zone is taken as UTC."""
    moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def to_metadata(record: MemoryRecord, piece: int = 0, pieces: int = 1
                ) -> dict[str, Any]:
    """Flat chromadb metadata, for an upsert. `day` (UTC day number) makes time-window lookups
    cheap. `ts` keeps the time exactly: chromadb may move a float metadata value by one unit
    in its last place, and `t` (for filters) is such a float. Keys a memory does not have
    are None, which an upsert removes: a memory replaced by id keeps nothing of its old self.
    """
    return {
        "t": float(record.timestamp),
        "ts": repr(float(record.timestamp)),
        "day": int(record.timestamp // SECONDS_PER_DAY),
        "role": record.role,
        "conversation": record.conversation,
        "user": record.user,
        "source": record.source,
        "interrupted": True if record.interrupted else None,
        "spoken": record.spoken,
        "recording": record.recording,
        "offset": None if record.offset is None else float(record.offset),
        "piece": piece or None,
        "pieces": pieces if not piece and pieces > 1 else None,
    }


def from_metadata(entry_id: str, document: str | None, meta: dict[str, Any]) -> MemoryRecord:
    """A stored entry as a record. Lenient: an entry written by another program or damaged
    still reads (see timestamps.stored_timestamp), so it can be listed and forgotten."""
    spoken, recording, offset = meta.get("spoken"), meta.get("recording"), meta.get("offset")
    return MemoryRecord(
        id=record_id(entry_id), text=document or "", role=str(meta.get("role")),
        conversation=str(meta.get("conversation")), timestamp=stored_time(meta),
        user=str(meta.get("user", "default")), source=str(meta.get("source", "voice")),
        interrupted=bool(meta.get("interrupted", False)),
        spoken=None if spoken is None else str(spoken),
        recording=None if recording is None else str(recording),
        offset=float(offset) if isinstance(offset, int | float) else None)


def stored_time(meta: dict[str, Any]) -> float:
    exact = meta.get("ts")
    return stored_timestamp(exact if isinstance(exact, str) else meta.get("t"))


def is_piece(entry_id: str) -> bool:
    return PIECE_SEP in entry_id


def record_id(entry_id: str) -> str:
    """The memory an index entry belongs to."""
    return entry_id.split(PIECE_SEP, 1)[0]


def piece_ids(record_id: str, pieces: int) -> list[str]:
    return [record_id] + [f"{record_id}{PIECE_SEP}{i}" for i in range(1, pieces)]


_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+|\n+")


def split_text(text: str, size: int) -> list[str]:
    """Pieces of at most ~size characters, cut at sentence ends, else at spaces."""
    if len(text) <= size:
        return [text]
    pieces: list[str] = []
    current = ""
    for sentence in _SENTENCE_END.split(text):
        while len(sentence) > size:
            cut = sentence.rfind(" ", size // 2, size)
            cut = cut if cut > 0 else size
            if current:
                pieces.append(current)
                current = ""
            pieces.append(sentence[:cut].strip())
            sentence = sentence[cut:].strip()
        if current and len(current) + 1 + len(sentence) > size:
            pieces.append(current)
            current = sentence
        else:
            current = f"{current} {sentence}".strip() if current else sentence
    if current:
        pieces.append(current)
    return [p for p in pieces if p]


Moment = datetime | float | None


def epoch_of(moment: Moment) -> float | None:
    if moment is None or isinstance(moment, int | float):
        return moment
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()
