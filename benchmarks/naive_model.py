"""Naive per-agent reference of :class:`abm.model.SoilCarbonModel` (DESIGN.md §3).

:class:`NaiveSoilCarbonModel` is the same model written the way a straightforward Mesa model
would be: the three hot paths of the year are per-agent Python loops instead of whole-array
operations.

* **Peer signal** — every farmer walks its own neighbour list (built once from
  ``model.network.edges``) and adds ``1/degree`` for each neighbour using a practice; the
  vectorised model does one sparse product ``W @ adopted``. Both add the same identical terms,
  so the two agree exactly, bit for bit.
* **Decisions** — farmers are visited in a shuffled order (``model.random``, as Mesa's
  ``shuffle_do``); each draws its own uniforms from ``model.rng_behaviour``, decides with the
  scalar rule :meth:`abm.agents.farmer.Farmer.decide`, then updates its own years of use,
  knowledge, abandonment flag and the year's adoption/dis-adoption counts — exactly the
  post-decision updates of :meth:`abm.model.SoilCarbonModel.decide_farmers`, one agent at a
  time.
* **Soil** — every farmer turns its practices into its own monthly drivers (the per-farm form of
  :func:`abm.landscape.soil_drivers`) and steps its soil, and its imported-carbon tracer soil,
  month by month with the pure-Python RothC month of :mod:`naive_soil` (``math`` on floats),
  extended here with what the model uses: the decay-rate multiplier ``rate_mod``, the stable
  biochar pool (97 % of added biochar C, decaying at ``K_BIOCHAR·a·b·c·rate_mod``; 3 % to DPM)
  and the optional saturation term — mirroring :meth:`SoilCarbonModel._advance_soil` and
  :func:`abm.soil.rothc.run` step for step. The results are written back into ``model.farms``
  so the stakeholders and the reporters work unchanged.

Everything else is inherited, including the world-building — landscape and spin-up
(:func:`abm.landscape.build_farms`), network, behavioural burn-in and soil history — which runs
the parent's vectorised code in ``__init__``: it is not the per-year hot path being compared,
and keeping it shared means a naive and a real model built with the same seed start from the
same state. The naive paths switch on only once construction is over.

With ``shuffle=False`` farmers are visited in index order, so they consume ``rng_behaviour``
exactly as the vectorised rule's single ``(N, P)`` draw does and the naive model reproduces
the real one's trajectory (to floating-point rounding); with the default ``shuffle=True`` the
two agree statistically (``benchmarks/bench_model.py``, ``tests/test_naive_reference.py``).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from naive_soil import Farm, rmf_moist, rmf_pc, rmf_tmp  # type: ignore[import-not-found,unused-ignore]
else:
    from benchmarks.naive_soil import Farm, rmf_moist, rmf_pc, rmf_tmp

from abm import resources
from abm.model import LEARNING_BY_DOING, SoilCarbonModel
from abm.scenario import Params
from abm.soil.rothc import BIOCHAR_LABILE_FRACTION, K_BIOCHAR

__all__ = ["NaiveSoilCarbonModel", "SoilFarm"]

TSTEP = 1.0 / 12.0


@dataclass
class SoilFarm(Farm):
    """A :class:`naive_soil.Farm` with the model's extensions (biochar pool, saturation).

    ``capacity`` is the mineral-associated C capacity (t C/ha) when saturation is on, else None.
    """

    biochar: float = 0.0
    capacity: float | None = None

    def month_ext(
        self,
        temp: float,
        rain: float,
        pevap: float,
        pc: int,
        dpm_rpm: float,
        c_inp: float,
        fym_inp: float,
        rate_mod: float,
        biochar_inp: float,
        ref: tuple[float, float, float] | None = None,
    ) -> tuple[float, float, float] | None:
        """One RothC month as :func:`abm.soil.rothc.run` does it with its extensions.

        With saturation, returns this soil's mineral-associated C (BIO + HUM + IOM) at the
        start of the month, after decay and after formation; a tracer soil passes its farm's
        triple as ``ref`` and is stabilised with the farm's deficit (the engine's ``sat_ref``).
        """
        rm_tmp = rmf_tmp(temp)
        rm_moist, self.swc = rmf_moist(rain, pevap, self.clay, self.depth, pc, self.swc)
        rate = rm_tmp * rm_moist * rmf_pc(pc) * rate_mod
        state = None
        if self.capacity is None:
            self.decomp(rate, c_inp, fym_inp, dpm_rpm)  # decay, partition, plant and FYM inputs
        else:
            state = self._decomp_saturated(rate, c_inp, fym_inp, dpm_rpm, self.capacity, ref)
        # the stable biochar pool decays with the same modifiers; 97 % of new biochar joins it,
        # 3 % is labile and joins DPM (after the month's other inputs)
        if self.biochar or biochar_inp:
            kept = self.biochar * math.exp(-K_BIOCHAR * TSTEP * rate)
            self.co2 += self.biochar - kept
            self.biochar = kept + (1.0 - BIOCHAR_LABILE_FRACTION) * biochar_inp
            self.dpm += BIOCHAR_LABILE_FRACTION * biochar_inp
        return state

    def _decomp_saturated(
        self,
        rate_m: float,
        c_inp: float,
        fym_inp: float,
        dpm_rpm: float,
        cap: float,
        ref: tuple[float, float, float] | None,
    ) -> tuple[float, float, float]:
        """The month's decay and inputs with the saturation deficit (see abm.soil.saturation)."""
        dpm1 = self.dpm * math.exp(-rate_m * 10.0 * TSTEP)
        rpm1 = self.rpm * math.exp(-rate_m * 0.3 * TSTEP)
        bio1 = self.bio * math.exp(-rate_m * 0.66 * TSTEP)
        hum1 = self.hum * math.exp(-rate_m * 0.02 * TSTEP)
        decayed = (self.dpm - dpm1) + (self.rpm - rpm1) + (self.bio - bio1) + (self.hum - hum1)
        x = 1.67 * (1.85 + 1.60 * math.exp(-0.0786 * self.clay))
        own = (self.bio + self.hum + self.iom, bio1 + hum1 + self.iom)
        c0, c1 = own if ref is None else ref[:2]
        deficit = max(0.0, 1.0 - c0 / cap)
        room = max(0.0, cap - c1)
        formed = min(deficit * decayed / (x + 1.0), room)
        self.dpm = dpm1
        self.rpm = rpm1
        self.bio = bio1 + 0.46 * formed
        self.hum = hum1 + 0.54 * formed
        self.co2 += decayed - formed
        self.dpm += dpm_rpm / (dpm_rpm + 1.0) * c_inp + 0.49 * fym_inp
        self.rpm += 1.0 / (dpm_rpm + 1.0) * c_inp + 0.49 * fym_inp
        c2 = self.bio + self.hum + self.iom if ref is None else ref[2]
        state = (*own, self.bio + self.hum + self.iom)
        f_hum = 0.02 * fym_inp
        to_hum = min(f_hum, max(0.0, cap - c2))
        self.hum += to_hum
        self.rpm += f_hum - to_hum
        return state


class NaiveSoilCarbonModel(SoilCarbonModel):
    """:class:`SoilCarbonModel` with per-agent loops for the peer signal, decisions and soil.

    Parameters
    ----------
    params, seed
        As :class:`SoilCarbonModel`.
    shuffle
        Visit farmers in a random order each year (Mesa's ``shuffle_do`` style, default). With
        False they are visited in index order and the run reproduces the vectorised model's.
    """

    _naive_on = False  # the parent's vectorised paths build the world in __init__

    def __init__(
        self,
        params: Params | Mapping[str, Any] | None = None,
        *,
        seed: int | None = None,
        shuffle: bool = True,
    ) -> None:
        super().__init__(params, seed=seed)
        self.shuffle = shuffle
        neighbours: list[list[int]] = [[] for _ in range(self.farms.n)]
        for a, b in self.network.edges.tolist():
            neighbours[a].append(b)
            neighbours[b].append(a)
        self.neighbours = neighbours
        self._naive_on = True

    # ---- (a) peer signal: each farmer asks its neighbours ----------------------------------
    def peer_signal(self) -> np.ndarray:
        """(N, P) share of each farmer's peers using each practice, one farmer at a time."""
        if not self._naive_on:
            return super().peer_signal()
        adopted = self.farms.adopted.tolist()
        n_p = self.farms.adopted.shape[1]
        out = []
        for peers in self.neighbours:
            share = [0.0] * n_p
            if peers:
                w = 1.0 / len(peers)
                for j in peers:
                    row = adopted[j]
                    for p in range(n_p):
                        if row[p]:
                            share[p] += w
            out.append(share)
        return np.array(out, dtype=float).reshape(self.farms.n, n_p)

    # ---- (b) decisions: farmer by farmer ------------------------------------------------------
    def decide_farmers(self, uniforms: np.ndarray | None = None) -> None:
        """Every farmer decides in turn with :meth:`Farmer.decide`, then updates its own row."""
        if not self._naive_on:
            super().decide_farmers(uniforms)
            return
        f = self.farms
        fp = self.params.farmer
        n_p = f.adopted.shape[1]
        self.norm = self.peer_signal()
        self.instruments.rate_mean = self.rate_mean  # as SoilCarbonModel._utilities does
        self.instruments.rate_sd = self.rate_sd
        order = list(self.farmers)
        if self.shuffle:
            self.random.shuffle(order)
        # new arrays, as the vectorised rule makes: every farmer decides on last year's state
        adopted_new, years_new, abandoned_new = f.adopted.copy(), f.years.copy(), f.abandoned.copy()
        adoptions = disadoptions = 0
        for farmer in order:
            i = farmer.idx
            if uniforms is None:
                u = self.rng_behaviour.random(n_p).tolist()
            else:
                u = [float(x) for x in uniforms[i]]
            new = farmer.decide(u)
            was = f.adopted[i].tolist()
            years = f.years[i].tolist()
            know = f.knowledge[i].tolist()
            norm = self.norm[i].tolist()
            adopt_any = drop_any = False
            for p in range(n_p):
                if new[p] and not was[p]:
                    adoptions += 1
                    adopt_any = True
                elif was[p] and not new[p]:
                    disadoptions += 1
                    drop_any = True
                years[p] = years[p] + 1.0 if new[p] else 0.0
                learn = fp.peer_learning * norm[p] + (LEARNING_BY_DOING if new[p] else 0.0)
                k = know[p]
                k = k + min(learn, 1.0) * (1.0 - k)
                know[p] = k - (0.0 if new[p] else fp.knowledge_decay) * k
            adopted_new[i] = new
            years_new[i] = years
            f.knowledge[i] = know
            abandoned_new[i] = (bool(f.abandoned[i]) or drop_any) and not adopt_any
        f.adopted, f.years, f.abandoned = adopted_new, years_new, abandoned_new
        self.events = {"adoptions": adoptions, "disadoptions": disadoptions}

    # ---- (c) soil: each farmer steps its own soil month by month ------------------------------
    def _advance_soil(
        self, temp: np.ndarray, rain: np.ndarray, evap: np.ndarray, d: resources.Drivers
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Twelve RothC months per farm and per tracer soil, one farm at a time.

        Same contract as the parent. The year's drivers (conventional management plus the
        practices after the resource limits of :mod:`abm.resources`, which are regional) come
        in as arrays; each farm then runs its own soil and its two tracer soils (carbon received,
        carbon given away) month by month in plain Python.
        """
        if not self._naive_on:
            return super()._advance_soil(temp, rain, evap, d)
        f = self.farms
        soc_before = f.soc()
        # plain Python lists, so the loop does not pay for numpy scalar indexing
        pools, t_in, t_out = f.pools.tolist(), f.tracer.tolist(), f.tracer_out.tolist()
        iom, smd, clay, depth = f.iom.tolist(), f.smd.tolist(), f.clay.tolist(), f.depth.tolist()
        biochar = f.biochar.tolist()
        temp_l, rain_l, evap_l = temp.tolist(), (rain + d.irrigation).tolist(), evap.tolist()
        plant, ratio, fym = d.plant.tolist(), d.dpm_rpm.tolist(), d.fym.tolist()
        fym_in, fym_out, bc_in = d.fym_in.tolist(), d.fym_out.tolist(), d.biochar.tolist()
        cover = d.covered.astype(int).tolist()
        rate_mod = d.rate_mod.tolist()
        cap = None if self.saturation is None else self.farms.capacity.tolist()
        co2 = [0.0] * f.n
        months = range(12)
        for i in range(f.n):
            # the deficit cannot lie below SMDmax (the engine's clamp; a no-op in practice)
            smd_max = -(20.0 + 1.3 * clay[i] - 0.01 * clay[i] * clay[i]) * depth[i] / 23.0
            swc = max(smd[i], smd_max)
            cap_i = None if cap is None else cap[i]
            soil = SoilFarm(
                *pools[i],
                iom=iom[i],
                clay=clay[i],
                depth=depth[i],
                swc=swc,
                biochar=biochar[i],
                capacity=cap_i,
            )
            kw = {"iom": 0.0, "clay": clay[i], "depth": depth[i], "swc": swc, "capacity": cap_i}
            inward, outward = SoilFarm(*t_in[i], **kw), SoilFarm(*t_out[i], **kw)  # type: ignore[arg-type]
            t_i, r_i, e_i, c_i = temp_l[i], rain_l[i], evap_l[i], cover[i]
            for m in months:
                # the tracers first: they read the farm's state of this month
                ref = None
                if cap_i is not None:
                    probe = SoilFarm(
                        soil.dpm,
                        soil.rpm,
                        soil.bio,
                        soil.hum,
                        iom=iom[i],
                        clay=clay[i],
                        depth=depth[i],
                        swc=soil.swc,
                        biochar=soil.biochar,
                        capacity=cap_i,
                    )
                    ref = probe.month_ext(
                        t_i[m],
                        r_i[m],
                        e_i[m],
                        c_i[m],
                        ratio[i][m],
                        plant[i][m],
                        fym[i][m],
                        rate_mod[i][m],
                        bc_in[i][m],
                    )
                args = (t_i[m], r_i[m], e_i[m], c_i[m], ratio[i][m])
                inward.month_ext(*args, 0.0, fym_in[i][m], rate_mod[i][m], bc_in[i][m], ref)
                outward.month_ext(*args, 0.0, fym_out[i][m], rate_mod[i][m], 0.0, ref)
                soil.month_ext(*args, plant[i][m], fym[i][m], rate_mod[i][m], bc_in[i][m])
            f.pools[i] = (soil.dpm, soil.rpm, soil.bio, soil.hum)
            f.tracer[i] = (inward.dpm, inward.rpm, inward.bio, inward.hum)
            f.tracer_out[i] = (outward.dpm, outward.rpm, outward.bio, outward.hum)
            f.smd[i] = soil.swc
            f.biochar[i] = soil.biochar
            co2[i] = soil.co2
        return soc_before, f.soc(), np.array(co2)
