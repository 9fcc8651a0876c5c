"""Benchmark: graph building plus every NET rule on a generated estate.

Generates (in memory, no parser involved) an estate of 10,000 security groups, about
30,000 rules and 20,000 workloads across three environments, then times
``EstateGraph(estate)`` plus NET301-NET304 (with the strict ruleset's two deny policies
and one allow_only policy). Peak memory of that step is measured in a separate run under
``tracemalloc`` (which slows Python down, so it is not timed).

    python scripts/bench_reach.py            # 3 timed runs, median, then one traced run
    python scripts/bench_reach.py --runs 1 --services 300   # a smaller estate

Not a test: nothing here asserts a time.
"""
from __future__ import annotations

import argparse
import gc
import random
import resource
import statistics
import time
import tracemalloc
from typing import Any

from iacscan.environments import assign_environments
from iacscan.graph import EstateGraph
from iacscan.model import (
    Direction, Estate, InternetGateway, Location, Peer, PeerKind, Route, RouteTable, Rule, SecurityGroup, Subnet,
    Tier, Vpc, Workload, make_uid,
)
from iacscan.rules.base import Context, iter_rules
from iacscan.ruleset import Ruleset, load_ruleset

ENVS = ("prod", "staging", "dev")


def _rule(direction: Direction, proto: str, lo: int | None, hi: int | None, kind: PeerKind, value: str = "") -> Rule:
    return Rule(direction, proto, lo, hi, Peer(kind, value), location=Location("main.tf", 1))


class Generator:
    """A seeded generator of three-tier services per environment."""

    def __init__(self, services_per_env: int, seed: int = 7) -> None:
        self.rnd = random.Random(seed)
        self.services = services_per_env
        self.estate = Estate(root=".")
        self.line = 0

    def uid(self, env: str, address: str) -> str:
        return make_uid(f"envs/{env}", address)

    def loc(self, env: str) -> Location:
        self.line += 1
        return Location(f"envs/{env}/main.tf", self.line)

    def build(self) -> Estate:
        for e, env in enumerate(ENVS):
            self._network(e, env)
            self._shared(env)
            for s in range(self.services):
                self._service(e, env, s)
        return self.estate

    def _network(self, e: int, env: str) -> None:
        vpc = self.uid(env, "aws_vpc.main")
        self.estate.vpcs[vpc] = Vpc(vpc, "aws_vpc.main", [f"10.{e}.0.0/16"], {"Environment": env}, self.loc(env))
        igw = self.uid(env, "aws_internet_gateway.main")
        self.estate.internet_gateways[igw] = InternetGateway(igw, "aws_internet_gateway.main", vpc)
        public_rt = self.uid(env, "aws_route_table.public")
        self.estate.route_tables[public_rt] = RouteTable(
            public_rt, "aws_route_table.public", vpc, [Route("0.0.0.0/0", "igw", igw)], [])
        for i in range(12):
            sub = self.uid(env, f"aws_subnet.s{i}")
            public = i < 4
            self.estate.subnets[sub] = Subnet(sub, f"aws_subnet.s{i}", vpc, f"10.{e}.{i}.0/24",
                                              map_public_ip=public, location=self.loc(env))
            if public:
                self.estate.route_tables[public_rt].subnets.append(sub)

    def _group(self, env: str, name: str, rules: list[Rule]) -> str:
        uid = self.uid(env, f"aws_security_group.{name}")
        self.estate.groups[uid] = SecurityGroup(uid, f"aws_security_group.{name}", name, "bench",
                                                self.uid(env, "aws_vpc.main"), {"Environment": env}, rules,
                                                self.loc(env))
        return uid

    def _shared(self, env: str) -> None:
        ing, eg = Direction.INGRESS, Direction.EGRESS
        self._group(env, "bastion", [_rule(ing, "tcp", 22, 22, PeerKind.CIDR, "203.0.113.0/24"),
                                     _rule(eg, "tcp", 22, 22, PeerKind.CIDR, "10.0.0.0/8")])
        self._group(env, "monitor", [_rule(eg, "tcp", 9100, 9100, PeerKind.GROUP,
                                           self.uid(env, "aws_security_group.node"))])
        self._group(env, "node", [_rule(ing, "tcp", 9100, 9100, PeerKind.GROUP,
                                        self.uid(env, "aws_security_group.monitor"))])
        for name in ("bastion", "monitor"):
            self._workload(env, f"aws_instance.{name}", [self.uid(env, f"aws_security_group.{name}")], Tier.APP,
                           subnet=1, public=True)

    def _service(self, e: int, env: str, s: int) -> None:
        ing, eg = Direction.INGRESS, Direction.EGRESS
        lb, app, db = (self.uid(env, f"aws_security_group.{t}{s}") for t in ("lb", "app", "db"))
        self._group(env, f"lb{s}", [_rule(ing, "tcp", 443, 443, PeerKind.CIDR, "0.0.0.0/0"),
                                    _rule(eg, "tcp", 8080, 8080, PeerKind.GROUP, app)])
        app_rules = [_rule(ing, "tcp", 8080, 8080, PeerKind.GROUP, lb),
                     _rule(ing, "tcp", 22, 22, PeerKind.GROUP, self.uid(env, "aws_security_group.bastion")),
                     _rule(eg, "tcp", 5432, 5432, PeerKind.GROUP, db),
                     _rule(eg, "tcp", 443, 443, PeerKind.CIDR, "0.0.0.0/0")]
        if self.rnd.random() < 0.8:
            app_rules.append(_rule(ing, "tcp", 8443, 8443, PeerKind.GROUP, lb))
        db_rules = [_rule(ing, "tcp", 5432, 5432, PeerKind.GROUP, app),
                    _rule(ing, "tcp", 6379, 6379, PeerKind.GROUP, app)]
        if self.rnd.random() < 0.3:
            db_rules.append(_rule(ing, "tcp", 5432, 5432, PeerKind.CIDR, f"10.{e}.{4 + s % 8}.0/24"))
        if self.rnd.random() < 0.02:  # a leftover from another environment
            other = ENVS[(e + 1) % 3]
            db_rules.append(_rule(ing, "tcp", 5432, 5432, PeerKind.GROUP,
                                  self.uid(other, f"aws_security_group.app{self.rnd.randrange(self.services)}")))
        if self.rnd.random() < 0.01:  # a database open to the world
            db_rules.append(_rule(ing, "tcp", 5432, 5432, PeerKind.CIDR, "0.0.0.0/0"))
        self._group(env, f"app{s}", app_rules)
        self._group(env, f"db{s}", db_rules)
        node = self.uid(env, "aws_security_group.node")
        self._workload(env, f"aws_lb.web{s}", [lb], Tier.WEB, subnet=s % 4, public=s % 5 != 0, ports=[443],
                       tags={"Tier": "web"})
        for i in range(3):
            subnet = None if self.rnd.random() < 0.05 else 4 + s % 8
            self._workload(env, f"aws_instance.app{s}_{i}", [app, node], Tier.APP, subnet=subnet,
                           tags={"Tier": "app"})
        self._workload(env, f"aws_db_instance.db{s}", [db], Tier.DATA, subnet=4 + s % 8, public=False, ports=[5432])
        self._workload(env, f"aws_elasticache_cluster.cache{s}", [db], Tier.DATA, subnet=4 + s % 8, ports=[6379])

    def _workload(self, env: str, address: str, groups: list[str], tier: Tier, *, subnet: int | None,
                  public: bool | None = None, ports: list[int] | None = None,
                  tags: dict[str, str] | None = None) -> None:
        uid = self.uid(env, address)
        subnets: list[str | Any] = [self.uid(env, f"aws_subnet.s{subnet}")] if subnet is not None else []
        self.estate.workloads[uid] = Workload(
            uid, address, address.split(".")[0], tier, list(groups), self.uid(env, "aws_vpc.main"), subnets, public,
            list(ports or []), {"Environment": env, **(tags or {})}, location=self.loc(env))


def bench_ruleset() -> Ruleset:
    ruleset = load_ruleset("strict")
    ruleset.policies = [*ruleset.policies, {
        "id": "only-lb-talks-to-app",
        "allow_only": {"to": {"tag": {"Tier": "app"}}, "from": {"tag": {"Tier": "web"}}, "ports": [8080]}}]
    return ruleset


def step(estate: Estate, ruleset: Ruleset) -> dict[str, int]:
    """Graph building plus every NET rule; returns the number of findings per rule."""
    graph = EstateGraph(estate)
    counts: dict[str, int] = {}
    for registered in iter_rules():
        meta = registered.meta
        if meta.family != "net":
            continue
        ctx = Context(estate, graph, ruleset, meta, dict(meta.options), meta.severity)
        counts[meta.id] = sum(1 for _ in registered.check(ctx))
    counts["signatures"] = len(graph.reach.sigs)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=1111, help="services per environment (default 1111)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-trace", action="store_true", help="skip the tracemalloc run")
    args = parser.parse_args()
    ruleset = bench_ruleset()
    list(iter_rules())
    times: list[float] = []
    cpus: list[float] = []
    for run in range(args.runs):
        estate = Generator(args.services).build()
        assign_environments(estate, ruleset.environments)
        rules = sum(len(g.rules) for g in estate.groups.values())
        gc.collect()
        start, cpu = time.perf_counter(), time.process_time()
        counts = step(estate, ruleset)
        times.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
        if run == 0:
            print(f"estate: {len(estate.groups)} groups, {rules} rules, {len(estate.workloads)} workloads, "
                  f"{len(ENVS)} environments")
            print(f"findings: {counts}")
        print(f"run {run + 1}: {times[-1]:.2f} s wall, {cpus[-1]:.2f} s CPU")
        del estate
    print(f"median of {len(times)}: {statistics.median(times):.2f} s wall, {statistics.median(cpus):.2f} s CPU")
    if not args.no_trace:
        estate = Generator(args.services).build()
        assign_environments(estate, ruleset.environments)
        gc.collect()
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        step(estate, ruleset)
        peak = tracemalloc.get_traced_memory()[1] - base
        tracemalloc.stop()
        print(f"peak memory of the step (tracemalloc, above the estate): {peak / 2**20:.0f} MiB")
    print(f"process max RSS (estate included): {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
