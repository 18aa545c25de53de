"""Government agents: incentives, conditionality, advice funding, the budget and the 4‰ target.

One government per jurisdiction (farms are assigned to jurisdictions by zone). Instruments are
active from ``policy.start_year`` to ``policy.end_year`` inclusive. Every payment is made within
the jurisdiction's budget (``policy.budget_eur_per_yr`` shared by farmed area): when claims
exceed it, all payments are scaled down pro rata, and farmers expect that scale next year.

Schemes as real schemes pay (SCIENCE.md §8):

* **Per-hectare subsidy** paid once per hectare at the level it qualifies for
  (:func:`abm.economics.tier_payment_per_ha`), plus per-practice payments where declared.
* **Result-based carbon payment** (:meth:`Government.enrol`, :meth:`Government.settle`):
  voluntary contracts of ``policy.contract_yr`` years; verified *sequestration*
  (``farms.dseq_last`` measured by the scientists, imported carbon excluded) above
  ``policy.carbon_baseline_t_c_ha_yr``; a negative verified balance is carried forward and
  must be made up before anything is paid; of what is payable, ``buffer_share`` goes into the
  programme's buffer and ``uncertainty_deduction`` is not credited; the farmer is paid
  ``price × payable × (1 − buffer − deduction)``. A farm whose contract ends renews while
  enrolling still pays, otherwise it exits and its unpaid negative balance (a reversal) is
  cancelled from the buffer. When the programme ends every contract ends.
* **Conditionality**: on-the-spot checks of ``regulation.inspection_prob`` of farms a year;
  non-compliance found reduces the farm's CAP payments (``cap_payment_eur_per_ha`` plus its
  subsidies this year) by 3 % (negligence), × 3 per repetition up to 15 %, then as intentional.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from abm.economics import carbon_values, tier_levels, tier_payment_per_ha
from abm.practices import C_TO_CO2, PRACTICE_IDS

if TYPE_CHECKING:
    from abm.model import SoilCarbonModel


def reduction_rate(prior_findings: np.ndarray, reg: object) -> np.ndarray:
    """Conditionality reduction (share of CAP payments) at a finding, given earlier findings.

    ``negligence × factor^k`` for ``k`` earlier findings while it stays within the repeated
    maximum; the finding that would pass it is capped there; after the cap has been reached a
    new finding is treated as intentional (Delegated Reg. (EU) 2022/1172).
    """
    neg = reg.negligence_reduction  # type: ignore[attr-defined]
    fac = reg.repeat_factor  # type: ignore[attr-defined]
    cap = reg.repeated_max_reduction  # type: ignore[attr-defined]
    k = np.asarray(prior_findings, dtype=float)
    rate = neg * fac**k
    prev = np.where(k > 0, neg * fac ** (k - 1), 0.0)
    out: np.ndarray = np.where(
        rate <= cap,
        rate,
        np.where(prev < cap, cap, reg.intentional_reduction),  # type: ignore[attr-defined]
    )
    return out


class Government(mesa.Agent):
    """A policy maker for one jurisdiction."""

    model: SoilCarbonModel

    def __init__(self, model: SoilCarbonModel, jurisdiction: int, area_share: float) -> None:
        super().__init__(model)
        pol = model.params.policy
        self.jurisdiction = jurisdiction
        self.subsidy_factor = 1.0
        self.per_practice = np.array([pol.subsidy_by_practice.get(p, 0.0) for p in PRACTICE_IDS])
        self.tiers = tier_levels(policy_tiers(model))
        self.tier_practices = np.array([p in pol.subsidy_practices for p in PRACTICE_IDS])
        self.budget = None if pol.budget_eur_per_yr is None else pol.budget_eur_per_yr * area_share
        self.budget_scale = 1.0
        self.permille_history: list[float] = []
        self.enforcement = 0.0
        self.price_last = 0.0
        """Carbon price of last year (what this year's verification pays)."""

    def active(self) -> bool:
        """Whether the instruments run in the model's current year."""
        pol = self.model.params.policy
        return pol.start_year <= self.model.year <= pol.end_year

    def programme(self) -> bool:
        """Whether the result-based programme takes contracts this year."""
        return self.active() and self.model.params.policy.carbon_price_eur_per_tco2e > 0

    def step(self) -> None:
        """Set this year's instruments: subsidy levels (adaptive rule), carbon terms, regulation."""
        m = self.model
        pol = m.params.policy
        on = self.active()
        if pol.adaptive and on and self.permille_history:
            if self.permille_history[-1] < pol.target_permille:
                self.subsidy_factor *= 1.0 + pol.adaptive_step
        ins = m.instruments
        factor = self.subsidy_factor * self.budget_scale if on else 0.0
        ins.subsidy[self.jurisdiction] = self.per_practice * factor
        ins.tier_levels[self.jurisdiction] = self.tiers * factor
        ins.tier_practices = self.tier_practices
        # national instruments: every jurisdiction applies the same rules
        programme = self.programme()
        ins.carbon_price = pol.carbon_price_eur_per_tco2e * self.budget_scale if programme else 0.0
        ins.buffer_share = pol.buffer_share
        ins.deduction_share = pol.uncertainty_deduction
        mrv = 0.0 if pol.mrv_paid_by_government else pol.mrv_cost_eur_per_farm
        ins.fixed_cost_farmer = mrv + pol.hassle_cost_eur_per_farm if programme else 0.0
        reg = pol.regulation
        ramp = 0.0
        if on:
            years_in = m.year - pol.start_year + 1
            ramp = min(1.0, years_in / reg.compliance_ramp_yr) if reg.compliance_ramp_yr else 1.0
        self.enforcement = ramp
        # expected reduction per ha at a first finding (the farmer's view of conditionality)
        expected = reg.inspection_prob * reg.negligence_reduction * reg.cap_payment_eur_per_ha
        expected *= ramp
        ins.mandate_penalty = np.array(
            [expected if p in reg.mandate else 0.0 for p in PRACTICE_IDS]
        )
        ins.ban_penalty = np.array([expected if p in reg.ban else 0.0 for p in PRACTICE_IDS])
        duty = reg.compliance_logit * ramp
        ins.duty = np.array(
            [duty if p in reg.mandate else -duty if p in reg.ban else 0.0 for p in PRACTICE_IDS]
        )

    # ---- payments -----------------------------------------------------------------------
    def _subsidy_claims(self, mine: np.ndarray) -> np.ndarray:
        """(N, P) EUR claimed per farm and practice: per-hectare levels split + declared rates."""
        f = self.model.farms
        ins = self.model.instruments
        share = f.area_share * f.eligible
        levels = np.broadcast_to(ins.tier_levels[self.jurisdiction], (f.n, self.tiers.size))
        _, split = tier_payment_per_ha(share, ins.tier_practices, levels)
        per_ha = split + share * ins.subsidy[self.jurisdiction][None, :]
        out: np.ndarray = per_ha * (f.area * mine * f.open_to_schemes)[:, None]
        return out

    def _carbon_credits(self, mine: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(verified, payable) t CO2e per farm from this year's verification of last year.

        Verified = (measured sequestration − baseline) × area × 44/12, signed. The negative
        balance carried forward is made up first; what is left positive is payable.
        """
        f = self.model.farms
        pol = self.model.params.policy
        measured = f.enrolled_last & mine
        verified = np.where(
            measured, (f.measured_dsoc - pol.carbon_baseline_t_c_ha_yr) * f.area * C_TO_CO2, 0.0
        )
        total = f.carbon_balance_t + verified
        payable = np.where(measured, np.maximum(total, 0.0), 0.0)
        f.carbon_balance_t = np.where(measured, np.minimum(total, 0.0), f.carbon_balance_t)
        return verified, payable

    def settle(self) -> float:
        """Pay subsidies and result-based payments, inspect; return public spend (EUR)."""
        m = self.model
        f = m.farms
        pol = m.params.policy
        mine = f.gov == self.jurisdiction
        ins = m.instruments
        sub = self._subsidy_claims(mine)
        subsidy_claims = sub.sum(axis=1)
        verified, payable = self._carbon_credits(mine)
        keep = max(1.0 - pol.buffer_share - pol.uncertainty_deduction, 0.0)
        carbon_claims = payable * self.price_last * keep
        claims = float(subsidy_claims.sum() + carbon_claims.sum())
        scale = 1.0
        if self.budget is not None and claims > self.budget:
            scale = self.budget / claims
        self.budget_scale = scale if self.budget is not None else 1.0
        paid_sub = subsidy_claims * scale
        paid_carbon = carbon_claims * scale
        if self.price_last > 0:
            m.buffer_t += float(payable.sum() * pol.buffer_share)
        # what each farmer received per ha of each practice (crowding-out when it stops)
        share = f.area_share * f.eligible
        per_ha_practice = np.divide(
            sub * scale,
            (f.area[:, None] * share),
            out=np.zeros_like(sub),
            where=(share > 0) & mine[:, None],
        )
        got = per_ha_practice > 0
        f.last_paid[got] = per_ha_practice[got]
        # additionality: payments on area the farm already had under the practice
        prior = np.minimum(f.prior_share, share)
        frac = np.divide(prior, share, out=np.zeros_like(share), where=share > 0)
        nonadd = float((sub * frac).sum() * scale)
        rate = np.maximum(m.rate_mean[f.zone], 0.0)
        w_all = (share * rate).sum(axis=1)
        c_frac = np.divide((prior * rate).sum(axis=1), w_all, out=np.zeros(f.n), where=w_all > 0)
        nonadd += float((paid_carbon * c_frac).sum())
        year = m.year
        m.ledger.record(year, "incentive", int((paid_sub > 0).sum()), float(paid_sub.sum()))
        m.ledger.record(
            year,
            "incentive",
            int((paid_carbon > 0).sum()),
            float(paid_carbon.sum()),
            float((payable * keep).sum()),
        )
        mrv = 0.0
        if pol.mrv_paid_by_government:
            mrv = float((f.enrolled_last & mine).sum() * pol.mrv_cost_eur_per_farm)
        fines, inspection_cost = self._inspect(mine, paid_sub)
        ngo_funding = self._advice_funding()
        fl = m.flows
        fl["subsidies_eur"] += float(paid_sub.sum())
        fl["carbon_payments_eur"] += float(paid_carbon.sum())
        fl["nonadditional_payments_eur"] += nonadd
        fl["credits_verified_tco2e"] += float(verified.sum())
        fl["penalties_eur"] += fines
        fl["inspection_cost_eur"] += inspection_cost
        fl["public_mrv_eur"] += mrv
        self.price_last = ins.carbon_price
        spend = float(paid_sub.sum() + paid_carbon.sum())
        return spend + mrv + ngo_funding + inspection_cost

    def enrol(self) -> None:
        """Voluntary carbon contracts for this year: enrol, renew, or exit (after decisions).

        A farm enrols (or renews an ending contract) when the expected yearly value of
        enrolling with its practices is positive (:func:`abm.economics.carbon_values`). A farm
        that exits, or every farm when the programme ends, leaves its negative balance behind:
        the buffer pays for that reversal.
        """
        m = self.model
        f = m.farms
        mine = f.gov == self.jurisdiction
        enrolled = f.enrolled & mine
        if self.programme():
            x = carbon_values(m.instruments, f.adopted, f.zone, f.area)[0]
            f.contract_left[enrolled] -= 1.0
            ending = enrolled & (f.contract_left <= 0)
            renew = ending & (x > 0)
            exits = ending & ~renew
            new = mine & ~f.enrolled & (x > 0) & f.open_to_schemes
            f.contract_left[renew | new] = float(m.params.policy.contract_yr)
            f.enrolled[new] = True
        else:
            exits = enrolled
        reversal = float(-f.carbon_balance_t[exits].sum())
        m.buffer_t -= reversal
        m.reversals_t += reversal
        f.carbon_balance_t[exits] = 0.0
        f.enrolled[exits] = False
        f.contract_left[exits] = 0.0

    # ---- conditionality ---------------------------------------------------------------------
    def breach(self) -> np.ndarray:
        """(N,) farms not complying with a mandate (share below the required) or a ban."""
        f = self.model.farms
        reg = self.model.params.policy.regulation
        mand = np.array([p in reg.mandate for p in PRACTICE_IDS])
        ban = np.array([p in reg.ban for p in PRACTICE_IDS])
        short = f.eligible & mand[None, :] & (f.area_share < reg.required_share - 1e-9)
        out: np.ndarray = (short | (f.adopted & ban[None, :])).any(axis=1)
        return out

    def _inspect(self, mine: np.ndarray, paid_sub: np.ndarray) -> tuple[float, float]:
        """On-the-spot checks: (reductions EUR, inspection cost EUR)."""
        m = self.model
        f = m.farms
        reg = m.params.policy.regulation
        if not self.active() or not (reg.mandate or reg.ban):
            return 0.0, 0.0
        inspected = mine & (m.rng_inspection.random(f.n) < reg.inspection_prob)
        found = inspected & self.breach()
        base = f.area * reg.cap_payment_eur_per_ha + paid_sub
        rate = reduction_rate(f.findings, reg)
        fines = np.where(found, rate * base * self.enforcement, 0.0)
        f.findings[found] += 1.0
        m.ledger.record(m.year, "regulation", int(inspected.sum()), float(fines.sum()))
        return float(fines.sum()), float(inspected.sum() * reg.inspection_cost_eur_per_farm)

    def _advice_funding(self) -> float:
        pol = self.model.params.policy
        if not self.active():
            return 0.0
        return pol.ngo_funding_eur_per_yr / len(self.model.governments)


def policy_tiers(model: SoilCarbonModel) -> list[float]:
    """Per-hectare levels of 1..K qualifying practices (one level = the flat rate)."""
    pol = model.params.policy
    if pol.subsidy_tiers_eur_per_ha:
        return list(pol.subsidy_tiers_eur_per_ha)
    return [pol.subsidy_eur_per_ha]
