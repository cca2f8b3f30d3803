"""Fault injection for the replay server: a spec of fault kinds and shares, drawn per request.

Spec syntax: a comma-separated list of parts ``kind:share[:option[:option]]``.

- ``kind`` is a transport fault: ``429`` (answers 429 with ``Retry-After: 1``), ``500`` (a JSON
  error), ``slow`` (waits, then answers normally), ``truncated`` (declares the full
  Content-Length, sends half the body and closes the connection) or ``malformed`` (200 with a
  body that is not JSON); or a drift fault, the answer of a source that changed its fields:
  ``rename`` (the field arrives under another name) or ``null`` (the field arrives null).
- ``share`` is the fraction of requests (0 to 1) that get this fault; the shares of the
  transport faults add up to at most 1.
- options: ``always`` makes a transport fault permanent for the requests it hits (every attempt
  fails the same way); for ``slow`` a number of seconds (``3.5`` or ``3.5s``, default 2.0) sets
  the delay. A drift fault names its field (a result set header such as ``REB``, or a JSON key
  such as ``point``) and, for ``rename``, optionally the new name (default ``<FIELD>_RENAMED``).

Examples: ``429:0.3,500:0.2``; ``slow:0.1:3.5s``; ``500:1.0:always``; ``rename:1:REB``;
``rename:1:point:points``; ``null:0.5:AST``.

Transport faults are transient by default: a request (method, path and query without
``apiKey``) gets at most one of them, on its first attempt. Which one is decided by one uniform
number drawn from a hash of (seed, request), compared with the cumulative shares, so a rerun
against a fresh server meets the same faults. Drift faults are permanent, as a changed API
answers the same way every time: each one hits a request or not by its own draw (from the seed,
the fault and the request), on every attempt, and on top of any transport fault.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

TRANSPORT_KINDS = ("429", "500", "slow", "truncated", "malformed")
DRIFT_KINDS = ("rename", "null")
FAULT_KINDS = (*TRANSPORT_KINDS, *DRIFT_KINDS)
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
    field: str = ""  # drift faults: the field that changes
    renamed_to: str = ""  # rename: its new name

    @property
    def is_drift(self) -> bool:
        return self.kind in DRIFT_KINDS

    def __str__(self) -> str:
        text = f"{self.kind}:{self.share:g}"
        if self.kind == "slow" and self.slow_seconds != DEFAULT_SLOW_SECONDS:
            text += f":{self.slow_seconds:g}s"
        if self.kind == "rename":
            return f"{text}:{self.field}:{self.renamed_to}"
        if self.is_drift:
            return f"{text}:{self.field}"
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
        kinds = [(rule.kind, rule.field) for rule in rules]
        for kind, field in kinds:
            if kinds.count((kind, field)) > 1:
                what = f"kind {kind!r}" + (f" of field {field!r}" if field else "")
                raise ValueError(f"fault spec {spec!r}: {what} is given twice")
        total = sum(rule.share for rule in rules if not rule.is_drift)
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
            if rule.is_drift:
                continue
            cumulative += rule.share
            if draw < cumulative:
                return rule
        return None

    def drift(self, seed: int, request_key: str) -> list[FaultRule]:
        """The drift faults the request with this key gets, the same on every call."""
        return [
            rule
            for rule in self.rules
            if rule.is_drift and uniform_draw(seed, f"{rule}\x00{request_key}") < rule.share
        ]


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
    if kind in DRIFT_KINDS:
        return _parse_drift(part, kind, share, options)
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


def _parse_drift(part: str, kind: str, share: float, options: list[str]) -> FaultRule:
    names = [o for o in options if o != "always"]  # drift is permanent anyway
    most = 2 if kind == "rename" else 1
    if not names or len(names) > most or not all(names):
        usage = f"{kind}:share:FIELD" + (" or rename:share:FIELD:NEW" if kind == "rename" else "")
        raise ValueError(f"fault spec part {part!r}: expected {usage}")
    field = names[0]
    renamed_to = (names[1] if len(names) == 2 else f"{field}_RENAMED") if kind == "rename" else ""
    if renamed_to == field:
        raise ValueError(f"fault spec part {part!r}: renames {field!r} to itself")
    return FaultRule(kind=kind, share=share, always=True, field=field, renamed_to=renamed_to)


def apply_drift(payload: Any, rules: Sequence[FaultRule]) -> Any:
    """The JSON ``payload`` as a source that renamed or stopped filling fields would send it.

    A field is a header of an NBA.com result set (``headers`` + ``rowSet``: the values of that
    column in every row change with it) or a key of any JSON object (The Odds API's ``point``).
    """
    for rule in rules:
        payload = _drift(payload, rule)
    return payload


def _drift(node: Any, rule: FaultRule) -> Any:
    if isinstance(node, list):
        return [_drift(item, rule) for item in node]
    if not isinstance(node, dict):
        return node
    headers, rows = node.get("headers"), node.get("rowSet")
    if isinstance(headers, list) and isinstance(rows, list) and rule.field in headers:
        at = headers.index(rule.field)
        if rule.kind == "rename":
            return {**node, "headers": [rule.renamed_to if h == rule.field else h for h in headers]}
        return {**node, "rowSet": [[*row[:at], None, *row[at + 1 :]] for row in rows]}
    out = {}
    for key, value in node.items():
        value = _drift(value, rule)
        if key == rule.field and rule.kind == "rename":
            key = rule.renamed_to
        elif key == rule.field:
            value = None
        out[key] = value
    return out


def request_key(method: str, path: str, query: Iterable[tuple[str, str]]) -> str:
    """The identity of a request for fault decisions: method, path and sorted query, no secrets."""
    kept = sorted((k, v) for k, v in query if k not in SECRET_PARAMETERS)
    return f"{method.upper()} {path}?{urlencode(kept)}"


def uniform_draw(seed: int, key: str) -> float:
    """A number in [0, 1) fixed by (seed, key)."""
    digest = hashlib.sha256(f"{seed}\x00{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64
