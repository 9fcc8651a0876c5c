"""Reachability: flows between workloads, exposure to the internet, shortest paths.

Semantics (DESIGN.md "Reachability semantics", REFERENCES.md §8):

- A workload's ingress is the union of its groups' ingress rules, likewise egress.
  A workload with no group carries its VPC's default group (the declared
  ``aws_default_security_group`` when the code has one, else AWS's default: all traffic
  in from itself, all traffic out). Group references the code does not declare and
  ``Unknown`` peers admit nothing.
- Traffic from A to B is ``egress(A admits B) ∩ ingress(B admits A)``. A side admits the
  other by group (the other carries the named group; ``self`` is the group itself), by a
  range holding the other's addresses (its subnets' CIDRs, else its VPC's), or by a range
  holding all of IPv4. When the other's addresses are unknown, a narrower range admits
  it only possibly, and a possible flow never makes a path.
- When the code says which ports a workload listens on (a database port, listener
  ports), flows into it are cut to those ports (tcp).
- The internet reaches B when B's ingress admits all of IPv4 or all of IPv6 (a union of
  ranges counts), its subnets' network ACLs let the traffic in, and B is publicly
  addressable (confirmed), or might be (unconfirmed). See ``iacscan.reach_exposure``.

Cost: workloads with the same groups, addresses, environment, tier, ports, subnets and
exposure form one *signature*; flows and paths are computed between signatures and
candidates are found through indexes (who names which group, who admits which address
block, who admits anyone), never by comparing every pair. ``iacscan.reach_paths`` runs
the breadth-first searches.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from iacscan.model import Direction, Estate, Tier, Workload
from iacscan.net import AddressSet, Intervals, Traffic
from iacscan.gcpause import gc_paused
from iacscan.reach_exposure import CONFIRMED, NONE, Exposure, Network
from iacscan.reach_groups import (
    NOTHING, GroupView, PeerResolver, compile_group, covered_traffic, cut_mask, default_group_view,
    internet_traffic, traffic_mask, union_all,
)

INTERNET = "internet"
Summary = tuple[Traffic, Traffic, int, int, Traffic]  # out_anyone, in_anyone, in_mask, out_mask, in_internet
GroupsSummary = tuple[Traffic, Traffic, Traffic, int, Traffic]  # out_anyone, in_anyone, in_total, out_mask, internet


@dataclass
class Sig:
    """Workloads that behave identically for reachability."""

    id: int
    groups: tuple[str, ...]
    akey: object
    addrs: AddressSet | None
    exposure: str
    environment: str | None
    tier: Tier
    restrict: Traffic | None  # listening ports, when the code says
    workloads: list[Workload] = field(default_factory=list)
    groups_unknown: bool = False
    out_anyone: Traffic = NOTHING
    in_anyone: Traffic = NOTHING
    in_internet: Traffic = NOTHING
    in_mask: int = 0  # traffic_mask of everything its ingress admits (cut to its ports)
    out_mask: int = 0  # traffic_mask of everything its egress admits

    @property
    def rep(self) -> Workload:
        """The workload that stands for the signature in paths (first by address)."""
        return self.workloads[0]


def listening(ports: list[int]) -> Traffic | None:
    """tcp on the given ports (database, cache and listener ports are tcp), or None (no
    restriction) when the list is empty."""
    if not ports:
        return None
    return Traffic(by_protocol=(("tcp", Intervals.of((p, p) for p in ports)),))


class Reachability:
    """Flows and exposure of one estate, built once and shared by the NET rules."""

    def __init__(self, estate: Estate) -> None:
        with gc_paused():
            self._build(estate)

    def _build(self, estate: Estate) -> None:
        self.estate = estate
        self.network = Network(estate)
        resolver = PeerResolver(estate)
        self.views: dict[str, GroupView] = {uid: compile_group(g, resolver) for uid, g in estate.groups.items()}
        self.resolver = resolver
        self.sigs: list[Sig] = []
        self.sig_of: dict[str, int] = {}
        self._declared_defaults = {g.vpc: uid for uid, g in estate.groups.items()
                                   if g.is_default and isinstance(g.vpc, str) and g.vpc}
        self._build_sigs()
        self._build_indexes()
        self._flows: dict[tuple[int, int], Traffic] = {}
        self._receivers: dict[int, list[int]] = {}
        self.memo: dict[object, object] = {}  # query results shared by the NET rules

    def _build_indexes(self) -> None:
        """Who carries which group, who names which group in ingress, who sits at which
        addresses, who admits anyone: the indexes candidates come from."""
        self.members: dict[str, list[int]] = defaultdict(list)
        self.members_in_mask: dict[str, int] = defaultdict(int)  # what the members' ingress admits, coarsely
        for sig in self.sigs:
            for uid in sig.groups:
                self.members[uid].append(sig.id)
                self.members_in_mask[uid] |= sig.in_mask
        self.ingress_refs: dict[str, list[str]] = defaultdict(list)
        for uid, view in self.views.items():
            for peer in view.ingress.groups:
                self.ingress_refs[peer].append(uid)
        self.by_akey: dict[object, list[int]] = defaultdict(list)
        for sig in self.sigs:
            if sig.akey is not None:
                self.by_akey[sig.akey].append(sig.id)
        self._akey_addrs = {s.akey: s.addrs for s in self.sigs if s.akey is not None}
        self._touch_cache: dict[AddressSet, tuple[object, ...]] = {}
        self._cidr_cache: dict[tuple[str, Direction, object], Traffic] = {}
        self.ingress_cidr_index = self._ingress_cidr_index()
        self.open_members: dict[str, list[int]] = defaultdict(list)
        self.open_by_akey: dict[object, list[int]] = defaultdict(list)
        for sig in self.sigs:
            if sig.in_anyone:
                for uid in sig.groups:
                    self.open_members[uid].append(sig.id)
                if sig.akey is not None:
                    self.open_by_akey[sig.akey].append(sig.id)

    # ------------------------------------------------------------ signatures

    def _groups_for(self, workload: Workload) -> tuple[tuple[str, ...], bool]:
        refs = workload.groups
        if len(refs) == 1 and type(refs[0]) is str:  # the usual case, answered at once
            uid = self.resolver.groups.get(refs[0])
            return ((uid,), False) if uid is not None else ((), True)
        found: list[str] = []
        for ref in refs:
            if isinstance(ref, str):
                uid = self.resolver.group(ref)
                if uid is not None and uid not in found:
                    found.append(uid)
        if refs:
            return tuple(sorted(found)), not found
        return (self._default_group(workload),), False

    def _default_group(self, workload: Workload) -> str:
        vpc = workload.vpc if isinstance(workload.vpc, str) else ""
        if vpc in self._declared_defaults:
            return self._declared_defaults[vpc]
        scope = workload.uid.split("#", 1)[0]
        uid = f"default-sg:{vpc}" if vpc else f"default-sg:{scope}:unknown-vpc"
        if uid not in self.views:
            address = f"default security group of {self.estate.vpcs[vpc].address}" if vpc in self.estate.vpcs \
                else "default security group"
            self.views[uid] = default_group_view(uid, address)
        return uid

    def _build_sigs(self) -> None:
        index: dict[tuple[object, ...], Sig] = {}
        summaries: dict[tuple[object, ...], Summary] = {}  # only needed while building
        by_groups: dict[tuple[str, ...], GroupsSummary] = {}
        restricts: dict[tuple[int, ...], Traffic | None] = {}  # listening(ports) by sorted ports
        network = self.network
        for workload in sorted(self.estate.workloads.values(), key=lambda w: (w.address, w.uid)):
            groups, unknown = self._groups_for(workload)
            subnets = tuple(map(str, workload.subnets))
            akey, addrs = network.addresses(workload, subnets)
            exposure = network.exposure_state(workload)
            ports = tuple(sorted(workload.ports)) if len(workload.ports) > 1 else tuple(workload.ports)
            if ports in restricts:
                restrict = restricts[ports]
            else:
                restrict = restricts[ports] = listening(workload.ports)
            key = (groups, akey, exposure, workload.environment, workload.tier, ports, subnets, unknown)
            sig = index.get(key)
            if sig is None:
                sig = Sig(len(self.sigs), groups, akey, addrs, exposure, workload.environment, workload.tier,
                          restrict, groups_unknown=unknown)
                self._summarise(sig, workload, (groups, ports, subnets), summaries, by_groups)
                index[key] = sig
                self.sigs.append(sig)
            sig.workloads.append(workload)
            self.sig_of[workload.uid] = sig.id

    def _summarise(self, sig: Sig, workload: Workload, key: tuple[object, ...],
                   summaries: dict[tuple[object, ...], Summary],
                   by_groups: dict[tuple[str, ...], GroupsSummary]) -> None:
        """Fill the summary fields of a new signature; ``key`` (groups, sorted ports,
        subnets) is all they depend on."""
        found = summaries.get(key)
        if found is None:
            self._summarise_new(sig, workload, by_groups)
            summaries[key] = (sig.out_anyone, sig.in_anyone, sig.in_mask, sig.out_mask, sig.in_internet)
        else:
            sig.out_anyone, sig.in_anyone, sig.in_mask, sig.out_mask, sig.in_internet = found

    def _summarise_new(self, sig: Sig, workload: Workload, by_groups: dict[tuple[str, ...], GroupsSummary]) -> None:
        sig.out_anyone, sig.in_anyone, total, sig.out_mask, internet = self._groups_summary(sig.groups, by_groups)
        sig.in_mask = traffic_mask(total) if sig.restrict is None else cut_mask(total, sig.restrict)
        if internet and sig.restrict is not None:
            internet = internet.intersection(sig.restrict)
        acl = self.network.nacl_internet_ingress(workload) if internet else None
        sig.in_internet = internet.intersection(acl) if acl is not None else internet

    def _groups_summary(self, groups: tuple[str, ...],
                        by_groups: dict[tuple[str, ...], GroupsSummary]) -> GroupsSummary:
        """What a set of groups admits whatever the workload: (egress to anyone, ingress
        from anyone, all ingress, mask of all egress, ingress from the internet)."""
        found = by_groups.get(groups)
        if found is not None:
            return found
        views = [self.views[g] for g in groups]
        if len(views) == 1:  # the union of one is itself
            view = views[0]
            found = (view.egress.anyone, view.ingress.anyone, view.ingress.total, traffic_mask(view.egress.total),
                     view.ingress.internet)
        else:
            entries = [e for v in views for e in v.ingress.entries]
            found = (union_all(v.egress.anyone for v in views), union_all(v.ingress.anyone for v in views),
                     union_all(v.ingress.total for v in views), traffic_mask(union_all(v.egress.total for v in views)),
                     internet_traffic(entries))
        by_groups[groups] = found
        return found

    # ------------------------------------------------------------ flows

    def exposure(self, workload: Workload) -> Exposure:
        return self.network.exposure(workload)

    def internet_entries(self) -> list[tuple[Sig, Traffic, bool]]:
        """Signatures the internet reaches directly: (sig, traffic, confirmed)."""
        out = []
        for sig in self.sigs:
            if sig.in_internet and sig.exposure != NONE:
                out.append((sig, sig.in_internet, sig.exposure == CONFIRMED))
        return out

    def _cidr(self, group: str, direction: Direction, akey: object, addrs: AddressSet | None) -> Traffic:
        """What ``group``'s narrower ranges admit of a workload at ``addrs`` (certain only)."""
        if addrs is None:
            return NOTHING
        key = (group, direction, akey)
        found = self._cidr_cache.get(key)
        if found is None:
            view = self.views[group]
            side = view.ingress if direction is Direction.INGRESS else view.egress
            found = covered_traffic(side.cidrs, lambda r: _holds(r, addrs)) if side.cidrs else NOTHING
            self._cidr_cache[key] = found
        return found

    def flow(self, src: Sig, dst: Sig) -> Traffic:
        """The traffic members of ``src`` may send to members of ``dst`` (certain only)."""
        key = (src.id, dst.id)
        found = self._flows.get(key)
        if found is None:
            found = self._flow(src, dst)
            self._flows[key] = found
        return found

    def _flow(self, src: Sig, dst: Sig) -> Traffic:
        out = src.out_anyone
        for g in src.groups:
            egress = self.views[g].egress
            for h in dst.groups:
                t = egress.groups.get(h)
                if t:
                    out = out.union(t)
            if egress.cidrs:
                out = out.union(self._cidr(g, Direction.EGRESS, dst.akey, dst.addrs))
        if not out:
            return NOTHING
        into = dst.in_anyone
        for h in dst.groups:
            ingress = self.views[h].ingress
            for g in src.groups:
                t = ingress.groups.get(g)
                if t:
                    into = into.union(t)
            if ingress.cidrs:
                into = into.union(self._cidr(h, Direction.INGRESS, src.akey, src.addrs))
        result = out.intersection(into)
        if result and dst.restrict is not None:
            result = result.intersection(dst.restrict)
        return result

    # ------------------------------------------------------------ candidate indexes

    def touching(self, addresses: AddressSet) -> tuple[object, ...]:
        """Address keys of signatures whose addresses overlap ``addresses``."""
        found = self._touch_cache.get(addresses)
        if found is None:
            found = tuple(k for k, a in self._akey_addrs.items() if a is not None and a.intersection(addresses))
            self._touch_cache[addresses] = found
        return found

    def _ingress_cidr_index(self) -> dict[object, list[str]]:
        if not self._akey_addrs:
            return {}  # no signature has addresses: ranges touch none
        index: dict[object, set[str]] = defaultdict(set)
        for uid, view in self.views.items():
            if not self.members.get(uid):
                continue
            for addresses, _ in view.ingress.cidrs:
                for akey in self.touching(addresses):
                    index[akey].add(uid)
        return {k: sorted(v) for k, v in index.items()}

    def senders_to(self, dst: Sig) -> set[int]:
        """Signatures that may send to ``dst`` (a superset; ``flow`` decides)."""
        out: set[int] = set()
        if dst.in_anyone:
            return {s.id for s in self.sigs if s.out_mask & dst.in_mask}
        for h in dst.groups:
            ingress = self.views[h].ingress
            for peer in ingress.groups:
                out.update(self.members.get(peer, ()))
            for addresses, _ in ingress.cidrs:
                for akey in self.touching(addresses):
                    out.update(self.by_akey[akey])
        return out

    def receivers_from(self, src: Sig) -> list[int]:
        """Cached ``_receivers_from``."""
        found = self._receivers.get(src.id)
        if found is None:
            found = self._receivers[src.id] = self._receivers_from(src)
        return found

    def _receivers_from(self, src: Sig) -> list[int]:
        """Signatures ``src`` may reach (a superset; ``flow`` decides). A receiver needs a
        sender-side term (egress to its group, to a range touching it, or to anyone) and a
        receiver-side term (ingress from a group of ``src``, a range touching it, or anyone);
        candidates come from indexes and pass a coarse port filter. Receivers admitting
        anyone that only ``src``'s egress to anyone reaches are found by
        ``iacscan.reach_paths`` through its pools."""
        any_mask = 0 if src.out_anyone is NOTHING else traffic_mask(src.out_anyone)
        group_masks: dict[str, int] = {}
        akey_masks: dict[object, int] = defaultdict(int)
        located = bool(self._akey_addrs)  # else ranges touch no signature (``touching``)
        for g in src.groups:
            egress = self.views[g].egress
            for h, traffic in egress.groups.items():
                group_masks[h] = group_masks.get(h, 0) | traffic_mask(traffic)
            if not located:
                continue
            for addresses, traffic in egress.cidrs:
                mask = traffic_mask(traffic)
                for akey in self.touching(addresses):
                    akey_masks[akey] |= mask
        reach_mask = any_mask
        for mask in (*group_masks.values(), *akey_masks.values()):
            reach_mask |= mask
        if not reach_mask:
            return []
        held = self.members_in_mask  # a group's members admit nothing of reach_mask: none passes below
        candidates: set[int] = set()
        for g in src.groups:
            for h in self.ingress_refs.get(g, ()):
                if held.get(h, 0) & reach_mask:
                    candidates.update(self.members.get(h, ()))
        if src.akey is not None:
            for h in self.ingress_cidr_index.get(src.akey, ()):
                if held.get(h, 0) & reach_mask:
                    candidates.update(self.members.get(h, ()))
        for h in group_masks:
            candidates.update(self.open_members.get(h, ()))
        for akey in akey_masks:
            candidates.update(self.open_by_akey.get(akey, ()))
        out = []
        sigs, group_keys = self.sigs, set(group_masks)
        for tid in candidates:
            dst = sigs[tid]
            if any_mask & dst.in_mask:
                out.append(tid)
                continue
            mask = akey_masks.get(dst.akey, 0) if akey_masks else 0
            if group_keys and not group_keys.isdisjoint(dst.groups):
                for h in dst.groups:
                    mask |= group_masks.get(h, 0)
            if mask & dst.in_mask:
                out.append(tid)
        return out


def _holds(ranges: AddressSet, addrs: AddressSet) -> bool:
    """True when ``ranges`` holds every address the workload may have (per family)."""
    return bool((addrs.v4 and ranges.v4.covers(addrs.v4)) or (addrs.v6 and ranges.v6.covers(addrs.v6)))
