"""Branch and bound over the stock-before-shortage binaries of the master, with the
recourse cuts added in the tree (branch-and-Benders-cut), for the scenario
decomposition on HiGHS.

A MILP master handed to HiGHS whole is re-solved from scratch, and at 10,000
outcomes its root alone outlasts the run (thousands of dense cut rows). Here the
master stays one warm LP: a node is the LP with some binaries fixed, solved
from its parent's basis; the binary to branch on is chosen by solving both
children of every fractional one (strong branching; a child that can be pruned
decides at once). The first plan is the one with every binary 0 (no shortage
where the rule is held); a node whose binaries come out whole is a plan: the
subproblems price it and give cuts until the node's LP meets the plan's cost,
and it becomes the best plan when cheaper. Cuts hold for every plan, so they
are added for the whole tree, and every node's LP value is a lower bound of its
subtree. The search ends when no open node is below the best plan by more than
the gap, or at the time limit (with the least open bound as the lower bound).

With a plan in hand, every node bounded below its cost by more than the gap must be
searched, in whatever order: the nodes are taken best first by up to `lanes` threads,
each solving its node's LPs in its own copy of the master (HiGHS releases the GIL while
it solves). Pricing a plan and adding its cuts is one lane at a time.

Longer than 400 lines because the search is one algorithm: its shared state, a lane's
work on a node and the loop that hands the nodes to the lanes use each other's fields.
"""

from __future__ import annotations

import heapq
import math
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from optimizer.app.benders_plans import Bounds, Evaluated, new_cuts, price_plan
from optimizer.app.benders_pool import Pool
from optimizer.common.errors import InternalError
from optimizer.model.benders_blocks import ChunkSpec, Master, MaterialBlocks
from optimizer.model.parameters import Parameters
from optimizer.solve.benders_highs import MasterSolver

WHOLE = 1e-6  # a binary this close to 0 or 1 is whole

Kid = tuple[np.ndarray, np.ndarray, tuple[Any, ...]]  # low, up, (status, value, q, dj, basis)


@dataclass(order=True)
class Node:
    """An open node: its LP bound, and what it fixes."""

    bound: float
    order: int
    low: np.ndarray = field(compare=False)
    up: np.ndarray = field(compare=False)
    q: np.ndarray = field(compare=False)  # the binaries at the node's LP optimum
    dj: np.ndarray = field(compare=False)  # and their reduced costs
    basis: Any = field(compare=False)


@dataclass
class Tree:
    """The search's state: the problem, the best plan and the open nodes (changed under
    `lock`; pricing a plan and adding its cuts under `pricing`)."""

    p: Parameters
    master: Master
    mats: list[MaterialBlocks]
    specs: list[ChunkSpec]
    pool: Pool
    solver: MasterSolver
    bounds: Bounds
    target: float
    deadline: float | None
    say: Callable[[str], None]
    best: Evaluated | None = None
    open: list[Node] = field(default_factory=list)
    pruned: float = math.inf  # least bound of a node pruned by the best plan
    working: dict[int, float] = field(default_factory=dict)  # lane: bound of its node
    nodes: int = 0
    lps: int = 0
    fixed: int = 0  # binaries fixed by their reduced costs
    count: int = 0
    stop: bool = False  # set when the search must end now (an error, a signal)
    lock: threading.RLock = field(default_factory=threading.RLock)
    pricing: threading.Lock = field(default_factory=threading.Lock)

    def left(self) -> float | None:
        return None if self.deadline is None else self.deadline - time.perf_counter()

    def cutoff(self) -> float:
        """Nodes bounded at or above this cannot hold a plan better by the gap."""
        best = self.best
        if best is None:
            return math.inf
        return best.upper - self.target * max(1.0, abs(best.upper))

    def lower(self) -> float:
        """The proven lower bound: least open, worked-on or pruned bound, or the best
        plan."""
        with self.lock:
            least = min((n.bound for n in self.open), default=math.inf)
            working = min(self.working.values(), default=math.inf)
            best = self.best.upper if self.best is not None else math.inf
            return min(least, working, self.pruned, best)

    def offer(self, evaluated: Evaluated | None, q: np.ndarray | None) -> None:
        """A priced plan whose binaries are whole is a plan of the MILP: keep the cheapest."""
        if evaluated is None or q is None or not whole(q):
            return
        with self.lock:
            if self.best is None or evaluated.upper < self.best.upper:
                self.best = evaluated
                self.bounds.upper = evaluated.upper

    def prune(self, bound: float) -> None:
        with self.lock:
            self.pruned = min(self.pruned, bound)

    def push(
        self,
        bound: float,
        low: np.ndarray,
        up: np.ndarray,
        q: np.ndarray,
        dj: np.ndarray,
        basis: Any,
    ) -> None:
        with self.lock:
            if bound >= self.cutoff():
                self.prune(bound)
                return
            self.count += 1
            heapq.heappush(self.open, Node(bound, self.count, low, up, q, dj, basis))


@dataclass
class Lane:
    """One thread of the search, with its own copy of the master."""

    tree: Tree
    index: int

    def solve(self, low: np.ndarray, up: np.ndarray, basis: Any) -> tuple[Any, ...]:
        tree = self.tree
        if tree.stop:
            return "limit", -math.inf, None, None
        t0 = time.perf_counter()
        best = tree.best.upper if tree.best is not None else math.inf
        answer = tree.solver.node(low, up, basis, tree.left(), self.index, best)
        with tree.lock:
            tree.bounds.master_seconds += time.perf_counter() - t0
            tree.lps += 1
        if answer[0] == "error":  # a node left unsolved would leave the proof unsound
            raise InternalError(
                "a node of the search over the master's binaries failed: "
                f"{tree.solver.message or 'error'}"
            )
        return answer

    def settle(
        self, low: np.ndarray, up: np.ndarray, basis: Any
    ) -> tuple[str, float, np.ndarray | None, np.ndarray | None, Any, Evaluated | None]:
        """The node's LP, priced and cut until its value meets its plan's cost (or no cut
        is violated, or its value reaches the cutoff): status, value, binaries, their
        reduced costs, basis, and the last plan priced."""
        tree = self.tree
        evaluated = None
        while True:
            status, value, values, basis, dj = self.solve(low, up, basis)
            if status != "optimal" or values is None:
                return status, value, None, None, basis, evaluated
            q = values[tree.solver.integer]
            if value >= tree.cutoff():  # pruned whatever its plan costs
                return status, value, q, dj, basis, evaluated
            with tree.pricing:
                t0 = time.perf_counter()
                evaluated, gx, gr = price_plan(
                    tree.p, tree.master, tree.mats, tree.specs, tree.pool, values
                )
                fresh = new_cuts(tree.master, tree.mats, values, evaluated, gx, gr)
                gap = (evaluated.upper - value) / max(1.0, abs(evaluated.upper))
                done = not fresh or gap <= tree.target / 10.0
                if not done:
                    tree.solver.add_cuts(fresh)
                with tree.lock:
                    tree.bounds.sub_seconds += time.perf_counter() - t0
                    tree.bounds.rounds += 1
                    tree.bounds.cuts += 0 if done else len(fresh)
            if done:
                return "optimal", value, q, dj, basis, evaluated

    def child(self, low: np.ndarray, up: np.ndarray, basis: Any) -> str:
        """A node whose binaries are whole: priced and cut until settled; then a plan, or
        (when the cuts made the binaries fractional) an open node again."""
        tree = self.tree
        status, value, q, dj, basis, evaluated = self.settle(low, up, basis)
        if status == "limit":
            return "limit"
        if status == "bound":  # its LP is above the best plan's cost
            tree.prune(value)
        if status != "optimal" or q is None or dj is None:
            return "done"
        tree.offer(evaluated, q)
        if whole(q):  # settled: nothing in this node is cheaper than its LP value
            tree.prune(value)
        else:
            tree.push(value, low, up, q, dj, basis)
        return "done"

    def expand(self, node: Node) -> str:
        """Branch on the node (or settle it when its binaries are whole): "done", or
        "limit" with the node open again."""
        tree = self.tree
        fix_by_reduced_cost(tree, node)
        frac = np.flatnonzero(np.minimum(node.q, 1.0 - node.q) > WHOLE)
        if frac.size == 0:  # whole but not priced yet (cuts came since): settle it
            if self.child(node.low, node.up, node.basis) == "limit":
                tree.push(node.bound, node.low, node.up, node.q, node.dj, node.basis)
                return "limit"
            return "done"
        kids = self.strong(node, frac)
        if kids is None or any(answer[0] == "limit" for _, _, answer in kids):
            tree.push(node.bound, node.low, node.up, node.q, node.dj, node.basis)
            return "limit"
        outcome = "done"
        for low, up, answer in kids:
            status, value, q, dj, basis = answer
            if status == "bound":
                tree.prune(value)
            if status != "optimal" or q is None:
                continue
            # out of time: the kids left stay open (their bounds count in the lower bound)
            if not whole(q) or outcome == "limit":
                tree.push(value, low, up, q, dj, basis)
            elif self.child(low, up, basis) == "limit":
                tree.push(value, low, up, q, dj, basis)
                outcome = "limit"
        return outcome

    def strong(self, node: Node, frac: np.ndarray) -> list[Kid] | None:
        """The children to go on with. Each fractional binary's child at 1 is solved
        first (forcing the shortage and the empty shelf is what usually costs most): when
        some of them can be pruned, the one child left fixes all those binaries at 0 (a
        subtree with any of them at 1 holds no better plan). Else the binary whose two
        children gain most over the node (product of the gains), candidates from the
        most fractional."""
        tree = self.tree
        order = frac[np.argsort(-np.minimum(node.q[frac], 1.0 - node.q[frac]), kind="stable")]
        ups: dict[int, Kid] = {}
        pruned = []
        for j in order.tolist():
            kid = self.kid(node, j, 1.0)
            if kid is None:
                return None
            if kid[2][1] >= tree.cutoff():
                pruned.append(kid)
            else:
                ups[j] = kid
        if pruned:
            low, up = node.low.copy(), node.up.copy()
            for kid in pruned:
                fixed = np.flatnonzero(kid[0] > node.low)
                low[fixed] = up[fixed] = 0.0
            rest = self.solved(node, low, up)
            return None if rest is None else [rest, *pruned]
        chosen: tuple[float, list[Kid]] | None = None
        for j in order.tolist():
            down = self.kid(node, j, 0.0)
            if down is None:
                return None
            kids = [down, ups[j]]
            if down[2][1] >= tree.cutoff():
                return kids
            gains = [max(k[2][1] - node.bound, 1e-9) for k in kids]
            if chosen is None or gains[0] * gains[1] > chosen[0]:
                chosen = (gains[0] * gains[1], kids)
        assert chosen is not None
        return chosen[1]

    def kid(self, node: Node, j: int, v: float) -> Kid | None:
        """The node's child with binary j fixed at v, solved from the node's basis (value
        inf when infeasible); None when the time is up."""
        low, up = node.low.copy(), node.up.copy()
        low[j] = up[j] = v
        return self.solved(node, low, up)

    def solved(self, node: Node, low: np.ndarray, up: np.ndarray) -> Kid | None:
        """The node's LP between `low` and `up`, from the node's basis."""
        status, value, values, basis, dj = self.solve(low, up, node.basis)
        if status == "limit":
            return None
        q = values[self.tree.solver.integer] if values is not None else None
        value = value if status in ("optimal", "bound") else math.inf
        return low, up, (status, value, q, dj, basis)


def whole(q: np.ndarray) -> bool:
    return bool(np.all(np.minimum(q, 1.0 - q) <= WHOLE))


DJ_MARGIN = 1e-6  # relative: the reduced costs are trusted to this much less


def fix_by_reduced_cost(tree: Tree, node: Node) -> None:
    """Fix, in the node's subtree, every free binary whose other value cannot hold a
    better plan: by LP duality each point of the node's LP with binary j moved from its
    bound costs at least the node's value plus |reduced cost of j| (cuts added later only
    raise it). Those with that sum at the cutoff or above are fixed where they are."""
    cutoff = tree.cutoff()
    if not math.isfinite(cutoff):
        return
    free = node.low < node.up
    gain = np.abs(node.dj) * (1.0 - DJ_MARGIN)
    at0 = free & (node.q <= WHOLE) & (node.dj > 0) & (node.bound + gain >= cutoff)
    at1 = free & (node.q >= 1.0 - WHOLE) & (node.dj < 0) & (node.bound + gain >= cutoff)
    if not (at0.any() or at1.any()):
        return
    node.low, node.up = node.low.copy(), node.up.copy()
    node.up[at0] = 0.0
    node.low[at1] = 1.0
    tree.prune(float(node.bound + gain[at0 | at1].min()))
    with tree.lock:
        tree.fixed += int(at0.sum() + at1.sum())


def lanes_for(threads: int | None) -> int:
    """Nodes searched at once: `--threads` when given, else up to two CPUs."""
    return max(1, threads if threads is not None else min(2, os.cpu_count() or 1))


def search_tree(
    p: Parameters,
    master: Master,
    mats: list[MaterialBlocks],
    specs: list[ChunkSpec],
    pool: Pool,
    solver: MasterSolver,
    bounds: Bounds,
    target: float,
    deadline: float | None,
    say: Callable[[str], None],
) -> tuple[Evaluated | None, str]:
    """The best plan of the MILP master within `target` (see the module's docstring), and
    "optimal", "limit" or "infeasible"; `bounds.lower` is raised to the tree's bound."""
    tree = Tree(p, master, mats, specs, pool, solver, bounds, target, deadline, say)
    first = Lane(tree, 0)
    n = solver.integer.size
    zeros, ones = np.zeros(n), np.ones(n)
    status, value, q, dj, basis, evaluated = first.settle(zeros, ones, None)
    if status == "infeasible":
        return None, "infeasible"
    if status != "optimal" or q is None or dj is None:
        return None, "limit"
    bounds.lower = max(bounds.lower, value)
    root = basis
    tree.offer(evaluated, q)
    # The first plan: every binary 0 (no shortage where the rule is held), else 1 where
    # the root's is above 0 (shortage where the root has some, the shelf empty there).
    for fixed in (zeros, (q > WHOLE).astype(float)):
        if tree.best is not None:
            break
        s0, _v0, q0, _d0, _b0, e0 = first.settle(fixed, fixed, root)
        if s0 == "optimal":
            tree.offer(e0, q0)
        elif s0 != "infeasible":
            return tree.best, "limit"
    tree.push(value, zeros, ones, q, dj, root)
    status = _branch(tree)
    bounds.lower = max(bounds.lower, tree.lower())
    say(
        f"tree: {tree.nodes} nodes, {tree.lps} LPs, {tree.fixed} binaries fixed by reduced "
        f"cost, lower {tree.lower():.10g}, best {bounds.upper:.10g} ({status})"
    )
    return tree.best, status


def _branch(tree: Tree) -> str:
    """Best-first search until no node is left (or the time is): each free lane takes
    the least bounded open node."""
    count = tree.solver.lanes(lanes_for(tree.solver.threads))
    lanes = [Lane(tree, i) for i in range(count)]
    free = list(range(count))
    running: dict[Future[str], int] = {}
    limit = False
    last_word = time.perf_counter()
    with ThreadPoolExecutor(count, thread_name_prefix="tree") as threads:
        try:
            while True:
                with tree.lock:
                    while free and tree.open and not limit:
                        left = tree.left()
                        if left is not None and left <= 0:
                            limit = True
                            break
                        node = heapq.heappop(tree.open)
                        if node.bound >= tree.cutoff():
                            tree.prune(node.bound)
                            continue
                        lane = free.pop()
                        tree.nodes += 1
                        tree.working[lane] = node.bound
                        running[threads.submit(lanes[lane].expand, node)] = lane
                if not running:
                    break
                done, _ = wait(running, timeout=0.1, return_when=FIRST_COMPLETED)
                for future in done:
                    lane = running.pop(future)
                    outcome = future.result()  # an error in a lane ends the search
                    with tree.lock:
                        del tree.working[lane]
                    free.append(lane)
                    limit = limit or outcome == "limit"
                if time.perf_counter() - last_word > 10.0:
                    last_word = time.perf_counter()
                    best = tree.best.upper if tree.best is not None else math.inf
                    tree.say(
                        f"tree: node {tree.nodes}, {len(tree.open)} open, "
                        f"lower {tree.lower():.10g}, best {best:.10g}, {tree.lps} LPs, "
                        f"{tree.fixed} fixed"
                    )
        except BaseException:  # a signal or a failed lane: the other lanes stop too
            tree.stop = True
            tree.solver.cancel()
            raise
    return "limit" if limit else "optimal"
