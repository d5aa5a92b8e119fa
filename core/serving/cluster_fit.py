"""Whether one training's request fits a Ray cluster: ever (a node's total resources) or now (what is free).

A request is what Ray counts a training's actor for ({"CPU": 2.0, "GPU": 1.0, "worker_node": 1.0}, no zeros);
a node is its resources by name, as Ray reports them. Ray itself keeps a request that no node can hold waiting
for good (a node that might join some day); the studio says so at once instead, in one line (`unfit`).
Plain functions of plain values, so that they are tested without Ray.
"""

SETTINGS = {"CPU": "FMNIST_CPUS_PER_TRAINING", "GPU": "FMNIST_GPUS_PER_TRAINING"}
CUSTOM_SETTING = "FMNIST_RAY_RESOURCES"
HEAD = "No machine in the Ray cluster has {need} for a training"


def request_of(num_cpus: float, num_gpus: float, resources: dict) -> dict[str, float]:
    """The request of a training that asks for these (core.serving.ray_runner.training_options)."""
    wanted = {"CPU": num_cpus, "GPU": num_gpus, **resources}
    return {name: float(amount) for name, amount in wanted.items() if amount}


def holds(node: dict, request: dict) -> bool:
    return all(node.get(name, 0) >= amount for name, amount in request.items())


def fits_now(request: dict, free: list[dict]) -> bool:
    """Whether a node has the request free now (`free`: each live node's unused resources)."""
    return any(holds(node, request) for node in free)


def unfit(request: dict, nodes: list[dict]) -> str | None:
    """None if a node of the cluster (`nodes`: each live node's total resources) can hold the request, even if
    busy now; else the one line that says what is missing and how to fix it."""
    if any(holds(node, request) for node in nodes):
        return None
    if not nodes:
        return f"{HEAD.format(need=_amounts(request))} (the cluster has no live node)."
    for name, amount in request.items():
        largest = max(node.get(name, 0) for node in nodes)
        if largest < amount:
            return f"{HEAD.format(need=_amount(name, amount))} ({_why(name, amount, largest)})."
    return (
        f"{HEAD.format(need=_amounts(request) + ' together')} (no node has all of them; lower "
        f"{' or '.join(dict.fromkeys(map(_setting, request)))}, or add such a node)."
    )


def _why(name: str, amount: float, largest: float) -> str:
    if name in SETTINGS:
        if largest == 0:
            return f"the cluster has 0 {name}s; set {SETTINGS[name]}=0 or add a {name} node"
        return (
            f"its largest node has {_amount(name, largest)}; set {SETTINGS[name]}={largest:g} or less, "
            f"or add a node with {_amount(name, amount)}"
        )
    if largest == 0:
        return f'the cluster has no "{name}" resource; remove it from {CUSTOM_SETTING} or add a node that has it'
    return (
        f'its largest node has {largest:g} of "{name}"; ask for {largest:g} or less in {CUSTOM_SETTING}, '
        f"or add a node with {amount:g}"
    )


def _setting(name: str) -> str:
    return SETTINGS.get(name, CUSTOM_SETTING)


def _amount(name: str, amount: float) -> str:
    if name in SETTINGS:
        return f"{amount:g} {name}{'' if 0 < amount <= 1 else 's'}"
    return f'{amount:g} of "{name}"'


def _amounts(request: dict) -> str:
    parts = [_amount(name, amount) for name, amount in request.items()]
    return " and ".join(parts) if len(parts) < 3 else ", ".join(parts[:-1]) + " and " + parts[-1]
