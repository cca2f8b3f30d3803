"""Fault injection for the replay server: a spec of fault kinds and shares, drawn per request.

Spec syntax: a comma-separated list of parts ``kind:share[:option[:option]]``.

- ``kind`` is one of ``429`` (answers 429 with ``Retry-After: 1``), ``500`` (a JSON error),
  ``slow`` (waits, then answers normally), ``truncated`` (declares the full Content-Length, sends
  half the body and closes the connection) or ``malformed`` (200 with a body that is not JSON).
- ``share`` is the fraction of requests (0 to 1) that get this fault; the shares add up to at
  most 1.
- options: ``always`` makes the fault permanent for the requests it hits (every attempt fails
  the same way); for ``slow`` a number of seconds (``3.5`` or ``3.5s``, default 2.0) sets the
  delay.

Examples: ``429:0.3,500:0.2``; ``slow:0.1:3.5s``; ``500:1.0:always``.

Faults are transient by default: a request (method, path and query without ``apiKey``) gets at
most one fault, on its first attempt. Which fault it gets is decided by one uniform number drawn
from a hash of (seed, request), compared with the cumulative shares, so a rerun against a fresh
server meets the same faults.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlencode

FAULT_KINDS = ("429", "500", "slow", "truncated", "malformed")
DEFAULT_SLOW_SECONDS = 2.0
# Query parameters that identify the caller rather than the request; a fault must not depend
# on them (and a key must never reach a log or a stats table).
SECRET_PARAMETERS = frozenset({"apiKey"})


@dataclass(frozen=True)
class FaultRule:
    """One part of a fault spec."""

    kind: str
    share: float
    always: bool = False
    slow_seconds: float = DEFAULT_SLOW_SECONDS

    def __str__(self) -> str:
        text = f"{self.kind}:{self.share:g}"
        if self.kind == "slow" and self.slow_seconds != DEFAULT_SLOW_SECONDS:
            text += f":{self.slow_seconds:g}s"
        return text + (":always" if self.always else "")


@dataclass(frozen=True)
class FaultSpec:
    """The faults a replay server injects, with the share of requests each one hits."""

    rules: tuple[FaultRule, ...] = ()

    @classmethod
    def parse(cls, spec: str | None) -> FaultSpec:
        """Parse a spec such as ``"429:0.3,500:0.2,slow:0.1:3s,truncated:0.1:always"``.

        Raises:
            ValueError: naming the part that is not understood.
        """
        if spec is None or not spec.strip():
            return cls()
        rules = [_parse_part(part.strip()) for part in spec.split(",") if part.strip()]
        kinds = [rule.kind for rule in rules]
        for kind in kinds:
            if kinds.count(kind) > 1:
                raise ValueError(f"fault spec {spec!r}: kind {kind!r} is given twice")
        total = sum(rule.share for rule in rules)
        if total > 1.0 + 1e-9:
            raise ValueError(f"fault spec {spec!r}: shares add up to {total:g}, more than 1")
        return cls(tuple(rules))

    def __str__(self) -> str:
        return ",".join(str(rule) for rule in self.rules)

    def __bool__(self) -> bool:
        return any(rule.share > 0 for rule in self.rules)

    def choose(self, seed: int, request_key: str) -> FaultRule | None:
        """The fault (if any) the request with this key gets, the same on every call."""
        draw = uniform_draw(seed, request_key)
        cumulative = 0.0
        for rule in self.rules:
            cumulative += rule.share
            if draw < cumulative:
                return rule
        return None


def _parse_part(part: str) -> FaultRule:
    fields = part.split(":")
    if len(fields) < 2:
        raise ValueError(f"fault spec part {part!r}: expected kind:share")
    kind, share_text, *options = fields
    if kind not in FAULT_KINDS:
        raise ValueError(f"fault spec part {part!r}: unknown kind {kind!r} (one of {FAULT_KINDS})")
    try:
        share = float(share_text)
    except ValueError:
        raise ValueError(
            f"fault spec part {part!r}: share {share_text!r} is not a number"
        ) from None
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"fault spec part {part!r}: share {share_text} is not between 0 and 1")
    always = False
    slow_seconds = DEFAULT_SLOW_SECONDS
    for option in options:
        if option == "always":
            always = True
        elif kind == "slow":
            try:
                slow_seconds = float(option.removesuffix("s"))
            except ValueError:
                raise ValueError(
                    f"fault spec part {part!r}: option {option!r} is neither 'always' nor seconds"
                ) from None
            if slow_seconds < 0:
                raise ValueError(f"fault spec part {part!r}: negative delay {option!r}")
        else:
            raise ValueError(f"fault spec part {part!r}: unknown option {option!r}")
    return FaultRule(kind=kind, share=share, always=always, slow_seconds=slow_seconds)


def request_key(method: str, path: str, query: Iterable[tuple[str, str]]) -> str:
    """The identity of a request for fault decisions: method, path and sorted query, no secrets."""
    kept = sorted((k, v) for k, v in query if k not in SECRET_PARAMETERS)
    return f"{method.upper()} {path}?{urlencode(kept)}"


def uniform_draw(seed: int, key: str) -> float:
    """A number in [0, 1) fixed by (seed, key)."""
    digest = hashlib.sha256(f"{seed}\x00{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64
