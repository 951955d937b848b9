"""The published parameters of the ML Skills Audit Framework (MLSAF).

Every number the scoring uses lives here and is described in `docs/methodology.md`.
Changing any of them changes `params_fingerprint()`; a test then insists that
`METHODOLOGY_VERSION` is bumped and its fingerprint recorded in `VERSION_FINGERPRINTS`.
"""

from __future__ import annotations

import hashlib
import json
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from knowledge.schema import Pillar

METHODOLOGY_VERSION = "2.0.0"
METHODOLOGY_URL = "docs/methodology.md"

# methodology version -> fingerprint of the parameters it was published with
VERSION_FINGERPRINTS = {
    "1.0.0": "a6afd81051f6",
    "1.1.0": "7b5561960205",  # adds the group-fairness threshold
    # evidence that means what it says, and skill-check evidence: docs/methodology.md, "Changes"
    "2.0.0": "f6b5ec74446e",
}


class SourceKind(StrEnum):
    """What kind of observation an evidence item is."""

    SELF_RATING = "self_rating"
    PEER_REVIEW = "peer_review"
    CERTIFICATE = "certificate"
    CODE = "code"
    MODEL_METRICS = "model_metrics"
    COMPETITION = "competition"
    WORK_RECORD = "work_record"
    SKILL_CHECK = "skill_check"  # a finished adaptive question check (tools/skill_check.py)


AUTOMATED_SOURCES = frozenset({SourceKind.CODE, SourceKind.MODEL_METRICS, SourceKind.COMPETITION})


class ScoringParams(BaseModel):
    """Parameters of the scoring; defaults are the published methodology."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    pillar_weights: dict[Pillar, float] = Field(
        default_factory=lambda: {
            Pillar.TECHNICAL: 0.40,
            Pillar.LIFECYCLE: 0.30,
            Pillar.ETHICS: 0.20,
            Pillar.CAREER: 0.10,
        }
    )
    # How much one observation of each kind is trusted (weight before recency decay).
    reliability: dict[SourceKind, float] = Field(
        default_factory=lambda: {
            SourceKind.SELF_RATING: 0.35,
            SourceKind.PEER_REVIEW: 0.60,
            SourceKind.CERTIFICATE: 0.50,
            SourceKind.CODE: 0.80,
            # A model's metric says more about the model than about the person who built it.
            SourceKind.MODEL_METRICS: 0.40,
            SourceKind.COMPETITION: 0.75,
            SourceKind.WORK_RECORD: 0.70,
            # Short, unproctored, from a public bank: above an opinion, below work products.
            SourceKind.SKILL_CHECK: 0.45,
        }
    )
    # An observation's weight halves every this many days.
    recency_half_life_days: float = 730.0
    # Evidence mass at which confidence reaches 0.5: confidence = W / (W + k).
    confidence_k: float = 1.0
    # Skills seen only through self-rating never exceed this confidence.
    self_only_confidence_cap: float = 0.40
    # Interval half-width in points at zero confidence; it shrinks linearly with confidence.
    interval_half_width: float = 50.0
    # Weight of a transferred estimate per unit of transfer factor and source confidence.
    transfer_weight: float = 0.25
    # Inferred (transferred) skills never exceed this confidence.
    inferred_confidence_cap: float = 0.30
    # Certificate strength by stated level; unstated counts as intermediate.
    certificate_strength: dict[str, float] = Field(
        default_factory=lambda: {"beginner": 0.40, "intermediate": 0.55, "advanced": 0.70}
    )
    top_gaps: int = 5
    # Career pulse.
    pulse_horizon_years: float = 2.0
    pulse_growth_cap: float = 1.25
    pulse_at_risk_factor: float = 0.60
    pulse_at_risk_min_proficiency: float = 40.0
    pulse_list_size: int = 5
    # Model audit.
    model_flag_percentile: float = 75.0
    # Below this minority share, accuracy and other threshold metrics are not quality evidence.
    imbalance_minority_threshold: float = 0.15
    # A quality percentile q becomes evidence of strength floor + span x q / 100: even a
    # winning model shows a skill at about 4/5, and a weak model on hard data is not a zero.
    model_strength_floor: float = 0.35
    model_strength_span: float = 0.50
    # A metric at or below its trivial baseline is evidence of a Model Evaluation gap.
    baseline_gap_strength: float = 0.20
    # Group-fairness differences (demographic parity, equalized odds) flagged above this.
    fairness_threshold: float = 0.10
    # Power-skills guard: flag when power skills trail technical ones by this many points.
    power_gap_points: float = 25.0
    # Schedule.
    full_audit_interval_days: int = 91
    micro_audit_interval_days: int = 30
    fatigue_days: int = 30
    volatile_half_life_years: float = 2.0
    # Income metrics look back this many days.
    income_window_days: int = 365
    new_clients_for_full_strength: int = 6
    # A top-client share at or above this is shown as a concentration risk.
    client_concentration_threshold: float = 0.50


DEFAULT_PARAMS = ScoringParams()


def params_fingerprint(params: ScoringParams = DEFAULT_PARAMS) -> str:
    """Return a short stable hash of every parameter value."""
    payload = json.dumps(params.model_dump(mode="json"), sort_keys=True).encode()
    return hashlib.sha256(payload).hexdigest()[:12]
