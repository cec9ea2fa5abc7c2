"""How lessons combine: the duplicate key, merging two copies of a claim, and outcome updates.

Pure functions on `Lesson` values; the store calls them inside its write transactions.

Confidence is the mean of a Beta posterior. A lesson enters with a prior confidence c0 worth
`PRIOR_WEIGHT` pseudo-observations; each later outcome (1 = the claim held, 0 = it did not)
moves it to

    confidence = (c0 * PRIOR_WEIGHT + confirmations) / (PRIOR_WEIGHT + applications)

computed incrementally as `c += (outcome - c) / (PRIOR_WEIGHT + applications)`, so it needs no
stored prior and never reaches 0 or 1. For an optimization, pitfall or fix the claim holds when
applying the change improved things; for a failed idea it holds when the change did not.
"""

from __future__ import annotations

import re

from kernelwright.memory.model import Evidence, HistoryEntry, Lesson, now_iso

PRIOR_WEIGHT = 4.0
HISTORY_CAP = 20


def normalize_change(text: str) -> str:
    """'num_warps 4->8', 'NUM_WARPS  4 -> 8' and 'num_warps 4 => 8' all give 'num_warps 4 -> 8':
    case, spacing and punctuation other than arrows and comparisons do not matter."""
    lowered = re.sub(r"=>|\u2192", "->", text.lower())
    tokens = (t.strip(".") for t in re.findall(r"[0-9a-z_.]+|->|<=|>=|<|>", lowered))
    return " ".join(t for t in tokens if t)


def merge_key(lesson: Lesson) -> str:
    """Lessons with equal keys are the same claim: same arch, op family, dtype and change.

    A lesson with no `change` is keyed on its title instead, so unrelated free-form notes do
    not collapse into one.
    """
    change = normalize_change(lesson.change) or "title:" + normalize_change(lesson.title)
    return f"{lesson.arch}|{lesson.op_family}|{lesson.dtype}|{change}"


def _claims_improvement(kind: str) -> bool:
    return kind != "failed-idea"


def _history_entry(evidence: Evidence, **what: str | bool) -> HistoryEntry:
    """An entry for `evidence`'s run; `what`: the outcome and whether it confirmed, or merged_from."""
    return HistoryEntry(run_id=evidence.run_id, step=evidence.step, speedup=evidence.speedup, **what, at=now_iso())


def _with_history(evidence: Evidence, entry: HistoryEntry) -> Evidence:
    history = (list(evidence.history) + [entry])[-HISTORY_CAP:]
    return evidence.model_copy(update={"history": history})


def apply_outcome(lesson: Lesson, improved: bool, evidence: Evidence | None = None) -> Lesson:
    """The lesson after one more application whose outcome was `improved` (see module docstring).

    The evidence of the outcome, if any, becomes a history entry; when it carries measurements
    it also replaces the lesson's current evidence (history kept).
    """
    confirmed = improved if _claims_improvement(lesson.kind) else not improved
    applications = lesson.applications + 1
    confidence = lesson.confidence + (float(confirmed) - lesson.confidence) / (PRIOR_WEIGHT + applications)
    current = lesson.evidence
    if evidence is not None and evidence.is_measured():
        current = evidence.model_copy(update={"history": list(current.history)})
    entry = _history_entry(evidence or Evidence(), outcome="improved" if improved else "not improved", confirmed=confirmed)
    return lesson.model_copy(
        update={
            "applications": applications,
            "successes": lesson.successes + int(confirmed),
            "confidence": round(min(max(confidence, 0.0), 1.0), 6),
            "evidence": _with_history(current, entry),
            "updated_at": now_iso(),
        }
    )


def merge_lessons(existing: Lesson, incoming: Lesson) -> Lesson:
    """`existing` updated with a second copy of its claim (`merge_key` equal).

    - Same direction (both claim an improvement, or both are failed ideas): confidence becomes
      the average of both weighted by (PRIOR_WEIGHT + applications), counters add up, tags
      union, and measured incoming evidence replaces the current one (history kept).
    - Opposite direction (a failed idea arriving for an optimization, or the reverse): the
      incoming lesson counts as one outcome against the existing claim (`apply_outcome`).
    Text, kind and source stay the existing ones; id and created_at never change.
    """
    if _claims_improvement(existing.kind) != _claims_improvement(incoming.kind):
        return apply_outcome(existing, improved=_claims_improvement(incoming.kind), evidence=incoming.evidence)
    w_old = PRIOR_WEIGHT + existing.applications
    w_new = PRIOR_WEIGHT + incoming.applications
    confidence = (existing.confidence * w_old + incoming.confidence * w_new) / (w_old + w_new)
    evidence = existing.evidence
    if incoming.evidence.is_measured():
        evidence = incoming.evidence.model_copy(update={"history": list(existing.evidence.history)})
    evidence = _with_history(evidence, _history_entry(incoming.evidence, merged_from=incoming.source))
    update = {
        "confidence": round(confidence, 6),
        "applications": existing.applications + incoming.applications,
        "successes": existing.successes + incoming.successes,
        "tags": existing.tags + [t for t in incoming.tags if t not in existing.tags],
        "evidence": evidence,
        "signature": existing.signature or incoming.signature,
        "updated_at": now_iso(),
    }
    return existing.model_copy(update=update)
