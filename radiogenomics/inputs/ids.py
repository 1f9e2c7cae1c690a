"""Patient-ID rules: how a sample or row ID in an input table becomes a patient ID.

Every generic parser (:func:`parsers.read_matrix`, :func:`parsers.read_target_table`,
:func:`parsers.read_survival_table`) takes an ``id_rule`` so that tables from
different sources join on the same patient IDs. A rule is built from a
config-friendly spec by :func:`make_id_rule`:

``"identity"``
    The ID as written, surrounding white space stripped (an empty ID is an
    error). For cohorts whose tables already share one patient ID.
``"tcga"``
    A TCGA barcode: the patient is its first 12 characters
    (``TCGA-02-0003-01A`` -> ``TCGA-02-0003``). The value must look like a
    TCGA barcode (``TCGA-`` + 2-character tissue source site + 4-character
    participant, optionally followed by more fields). Barcodes whose hyphens
    were turned into dots by R (``TCGA.02.0003.01A``) are accepted and read
    with hyphens. With this rule a matrix may hold several samples of one
    patient: :func:`parsers.select_samples` keeps one tumour sample each.
``{"regex": "...", "group": 1}``
    The patient is a group of a regular expression searched in the value
    (``re.search``; anchor it with ``^...$`` to match the whole value).
    ``group`` is a group number or name; it defaults to 1 when the pattern has
    a group, else the whole match. A value the pattern does not match, or
    whose group is empty, is an error naming the value and the pattern.

A rule raises :class:`IdRuleError` (a ``ValueError``) for a value it cannot
map; the parsers turn it into an ``InputError`` naming the file, row and
column.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Union

log = logging.getLogger(__name__)

#: Rule kinds understood by :func:`make_id_rule`.
RULE_KINDS = ("identity", "tcga", "regex")

IdRuleSpec = Union[str, Mapping[str, Any], "IdRule"]

_TCGA_RE = re.compile(r"^TCGA-[A-Z0-9]{2}-[A-Z0-9]{4}(?:-[A-Z0-9-]+)?$")
_TCGA_DOTTED_RE = re.compile(r"^TCGA\.[A-Z0-9]{2}\.[A-Z0-9]{4}(?:\.[A-Z0-9.]+)?$")
TCGA_PATIENT_LENGTH = 12


def patient_id(barcode: str) -> str:
    """Patient ID of a TCGA barcode: its first 12 characters (``TCGA-02-0003-01A`` -> ``TCGA-02-0003``)."""
    barcode = str(barcode).strip()
    if len(barcode) < TCGA_PATIENT_LENGTH:
        raise ValueError(f"barcode {barcode!r} is shorter than a TCGA patient ID ({TCGA_PATIENT_LENGTH} characters)")
    return barcode[:TCGA_PATIENT_LENGTH]


class IdRuleError(ValueError):
    """A value an ID rule cannot turn into a patient ID (the message names the value and the rule)."""


@dataclass(frozen=True)
class IdRule:
    """A patient-ID rule; call it on a raw ID to get the patient ID.

    ``kind`` is ``"identity"``, ``"tcga"`` or ``"regex"``; ``normalise``
    gives the cleaned sample-level ID (the TCGA rule turns R's dotted
    barcodes back into hyphenated ones) and ``__call__`` the patient ID.
    """

    kind: str
    pattern: str | None = None
    group: int | str | None = None
    _compiled: re.Pattern | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.kind not in RULE_KINDS:
            raise ValueError(f"unknown ID rule kind {self.kind!r}; expected one of {RULE_KINDS}")
        if self.kind == "regex" and self._compiled is None:
            if not self.pattern:
                raise ValueError("a 'regex' ID rule needs a pattern")
            object.__setattr__(self, "_compiled", re.compile(self.pattern))

    def normalise(self, value: object) -> str:
        """The sample-level ID: stripped text (TCGA: dots of an R-mangled barcode back to hyphens)."""
        if value is None or (isinstance(value, float) and value != value):
            raise IdRuleError(f"missing ID (empty cell); expected {self.expected()}")
        text = str(value).strip()
        if not text:
            raise IdRuleError(f"missing ID (empty cell); expected {self.expected()}")
        if self.kind == "tcga":
            if _TCGA_DOTTED_RE.match(text):
                text = text.replace(".", "-")
            if _TCGA_RE.match(text) is None:
                raise IdRuleError(f"{text!r} is not a TCGA barcode; the 'tcga' ID rule expects e.g. 'TCGA-02-0003' "
                                  "or 'TCGA-02-0003-01A' (TCGA-site-participant[-sample...])")
        return text

    def __call__(self, value: object) -> str:
        text = self.normalise(value)
        if self.kind == "identity":
            return text
        if self.kind == "tcga":
            return text[:TCGA_PATIENT_LENGTH]
        m = self._compiled.search(text)
        if m is None:
            raise IdRuleError(f"ID {text!r} does not match the ID rule's regex {self.pattern!r}")
        patient = m.group(self.group)
        if patient is None or not patient.strip():
            raise IdRuleError(f"ID {text!r}: group {self.group!r} of the ID rule's regex {self.pattern!r} is empty")
        return patient.strip()

    def expected(self) -> str:
        """What a valid ID looks like under this rule (for error messages)."""
        if self.kind == "identity":
            return "a non-empty ID"
        if self.kind == "tcga":
            return "a TCGA barcode such as 'TCGA-02-0003' or 'TCGA-02-0003-01A'"
        return f"an ID matching the regex {self.pattern!r}"

    def describe(self) -> str:
        if self.kind == "regex":
            return f"regex {self.pattern!r} (group {self.group!r})"
        return self.kind

    def to_spec(self) -> str | dict[str, Any]:
        """The spec :func:`make_id_rule` builds this rule from."""
        if self.kind == "regex":
            return {"regex": self.pattern, "group": self.group}
        return self.kind


def make_id_rule(spec: IdRuleSpec = "identity") -> IdRule:
    """Build a patient-ID rule from its spec (see the module docstring).

    ``spec`` is ``"identity"``, ``"tcga"``, a mapping ``{"regex": pattern,
    "group": 1}`` (``group`` optional) or an :class:`IdRule` (returned as is).
    Raises ``ValueError`` for an unknown rule, an invalid regex, or a group
    the regex does not have.
    """
    if isinstance(spec, IdRule):
        return spec
    if isinstance(spec, str):
        kind = spec.strip().lower()
        if kind in ("identity", "tcga"):
            return IdRule(kind=kind)
        raise ValueError(f"unknown ID rule {spec!r}; expected 'identity', 'tcga' or a mapping "
                         "{'regex': '...', 'group': 1}")
    if isinstance(spec, Mapping):
        unknown = set(spec) - {"regex", "group"}
        if unknown:
            raise ValueError(f"ID rule {dict(spec)!r}: unknown keys {sorted(unknown)}; expected 'regex' and "
                             "optionally 'group'")
        if "regex" not in spec:
            raise ValueError(f"ID rule {dict(spec)!r}: a mapping rule needs a 'regex' key")
        pattern = spec["regex"]
        if not isinstance(pattern, str) or not pattern:
            raise ValueError(f"ID rule: 'regex' must be a non-empty string, got {pattern!r}")
        try:
            compiled = re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"ID rule: invalid regex {pattern!r}: {exc}") from None
        group = spec.get("group", 1 if compiled.groups else 0)
        if isinstance(group, bool) or not isinstance(group, (int, str)):
            raise ValueError(f"ID rule: 'group' must be a group number or name, got {group!r}")
        if isinstance(group, int) and not 0 <= group <= compiled.groups:
            raise ValueError(f"ID rule: regex {pattern!r} has {compiled.groups} group(s); group {group} does not exist")
        if isinstance(group, str) and group not in compiled.groupindex:
            raise ValueError(f"ID rule: regex {pattern!r} has no group named {group!r} "
                             f"(named groups: {sorted(compiled.groupindex)})")
        return IdRule(kind="regex", pattern=pattern, group=group, _compiled=compiled)
    raise ValueError(f"ID rule must be 'identity', 'tcga' or a mapping with 'regex', "
                     f"got {type(spec).__name__} {spec!r}")



def overlap_hint(left: Iterable[object], right: Iterable[object]) -> str:
    """Why two ID lists that share no ID might still be meant to match ('' when no near miss is found).

    Checks, in turn: TCGA barcodes of different lengths (e.g. 15-character sample barcodes
    ``TCGA-02-0003-01A`` against 12-character patient IDs, which match after trimming to the patient
    ID: the ``tcga`` ID rule), R's dotted barcodes (``TCGA.02.0003``), upper / lower case, and white
    space or zero padding inside the IDs.
    """
    a = {str(v).strip() for v in left if v is not None and str(v).strip()}
    b = {str(v).strip() for v in right if v is not None and str(v).strip()}
    if not a or not b or a & b:
        return ""

    def tcga(ids: set[str]) -> set[str]:
        out = set()
        for v in ids:
            text = v.replace(".", "-") if _TCGA_DOTTED_RE.match(v) else v
            if _TCGA_RE.match(text):
                out.add(text[:TCGA_PATIENT_LENGTH])
        return out

    ta, tb = tcga(a), tcga(b)
    if ta & tb:
        la = sorted({len(v) for v in a})
        lb = sorted({len(v) for v in b})
        dotted = any(_TCGA_DOTTED_RE.match(v) for v in a | b)
        return (f"the IDs would match after trimming to the {TCGA_PATIENT_LENGTH}-character TCGA patient ID "
                f"({len(ta & tb)} patient(s), e.g. {sorted(ta & tb)[0]!r}; ID lengths {la} vs {lb}"
                + ("; some IDs are R-style dotted barcodes" if dotted else "")
                + "): set inputs.id_rule: tcga so that every table is joined by patient ID")
    if {v.lower() for v in a} & {v.lower() for v in b}:
        return "the IDs differ only in upper / lower case; write them the same way in every table"

    def squash(ids: set[str]) -> set[str]:
        return {re.sub(r"(?<![0-9])0+(?=[0-9])", "", re.sub(r"[\s_.-]+", "", v.lower())) for v in ids}

    if squash(a) & squash(b):
        return ("the IDs differ only in separators (space, '_', '.', '-') or zero padding; write them the same way "
                "in every table, or map them with an inputs.id_rule regex")
    return ""
