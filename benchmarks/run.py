"""`make bench`: every scenario against BrookMQ, Mosquitto and amqtt in one run.

Each broker is started fresh for every repetition of every scenario, pinned to
core 0; the loader runs pinned to core 1. Medians of the repetitions are
reported with the ratios BrookMQ / Mosquitto and BrookMQ / amqtt, all runs go
to ``benchmarks/results/latest.json`` and the table to ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from benchmarks import brokers

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "latest.json"
DOC = ROOT / "docs" / "benchmarks.md"
LOADER_CORE = "1"
BROKERS = ["brookmq", "mosquitto", "amqtt"]
START, END = "<!-- bench:start -->", "<!-- bench:end -->"
PERSISTENT = {"qos1_persistent"}  # Mosquitto runs with `persistence true` for these
# scenarios measured on some brokers only (over WebSocket, and the management API: BrookMQ)
ONLY = {"p2p_ws": {"brookmq"}, "api": {"brookmq"}, "rules": {"brookmq"}, "webhook": {"brookmq"}}
WITH_API = {"api", "rules", "webhook"}  # scenarios that set up or call BrookMQ's management API

# scenario: (metric, unit, higher is better)
METRICS: dict[str, list[tuple[str, str, bool]]] = {
    "p2p": [("rate", "msg/s", True)],
    "p2p_ws": [("rate", "msg/s", True)],
    "fanout": [("rate", "deliveries/s", True)],
    "fanin": [("rate", "msg/s", True)],
    "qos1": [("rate", "msg/s", True)],
    "qos1_persistent": [("rate", "msg/s", True)],
    "latency": [("p50_ms", "ms", False), ("p99_ms", "ms", False)],
    "idle": [("rss_per_conn_kb", "KB/conn", False), ("accept_per_s", "conn/s", True)],
    "retained": [("ms", "ms to receive all", False)],
    "rules": [
        ("rate", "msg/s through one rule republishing", True),
        ("vs_p2p", "one rule / plain p2p, same run", True),
        ("vs_one", "100 rules / one rule", True),
        ("rule_us_per_msg", "broker CPU us per message through the rule", False),
        ("p2p_us_per_msg", "broker CPU us per plain p2p message", False),
    ],
    "webhook": [
        ("actions_per_s", "HTTP action requests/s to a local sink", True),
        ("p50_ms", "PUBLISH to request p50 ms at 1,000 msg/s", False),
        ("p99_ms", "PUBLISH to request p99 ms at 1,000 msg/s", False),
    ],
    "api": [
        ("clients_rps", "GET /clients?limit=100 req/s", True),
        ("clients_p99_ms", "GET /clients p99 ms", False),
        ("v4_clients_rps", "GET /api/v4/clients?_limit=100 req/s", True),
        ("v4_clients_p99_ms", "GET /api/v4/clients p99 ms", False),
        ("v4_page_cost", "a v4 page's cost / a v5 page's", False),
        ("publish_rps", "POST /publish req/s", True),
        ("publish_p99_ms", "POST /publish p99 ms", False),
    ],
}


def run_loader(scenario: str, broker: brokers.Running, duration: float, quick: bool) -> dict[str, Any]:
    port = broker.ws_port if scenario.endswith("_ws") else broker.port
    cmd = [
        sys.executable,
        "-m",
        "benchmarks.loader",
        scenario,
        "--port",
        str(port),
        "--broker-pid",
        str(broker.pid),
        "--duration",
        str(duration),
    ]
    if quick:
        cmd.append("--quick")
    if broker.api_port:
        cmd += ["--api-port", str(broker.api_port)]
    if shutil.which("taskset"):
        cmd = ["taskset", "-c", LOADER_CORE, *cmd]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=ROOT)
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr else f"exit {out.returncode}"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def median(values: list[Any]) -> Any:
    numbers = [v for v in values if isinstance(v, (int, float))]
    return statistics.median(numbers) if numbers else None


def fmt(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float) and value < 100:
        return f"{value:.3g}"
    return f"{round(value):,}"


def ratio(a: Any, b: Any) -> str:
    if not a or not b:
        return "n/a"
    return f"{a / b:.2f}"


def table(medians: dict[str, dict[str, dict[str, Any]]], scenarios: list[str]) -> str:
    lines = [
        "| scenario | metric | BrookMQ | Mosquitto | amqtt | BrookMQ / Mosquitto | BrookMQ / amqtt "
        "| delivery ratio (B / M / a) | CPU broker / loader (BrookMQ) |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for scenario in scenarios:
        for metric, unit, better in METRICS[scenario]:
            row = [medians.get(b, {}).get(scenario, {}) for b in BROKERS]
            values = [r.get(metric) for r in row]
            delivery = " / ".join(fmt(r.get("delivery_ratio")) for r in row)
            cpu = row[0]
            usage = (
                f"{fmt(cpu.get('broker_cpu'))}% / {fmt(cpu.get('loader_cpu'))}%"
                if "broker_cpu" in cpu
                else ""
            )
            lines.append(
                f"| {scenario} | {metric} ({unit}, {'higher' if better else 'lower'} is better) | "
                + " | ".join(fmt(v) for v in values)
                + f" | {ratio(values[0], values[1])} | {ratio(values[0], values[2])} | {delivery} | {usage} |"
            )
    return "\n".join(lines)


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    system = f"{platform.system()} {platform.release()}"
    return f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, {system}"


def update_doc(text: str) -> None:
    doc = DOC.read_text() if DOC.exists() else f"# Benchmarks\n\n{START}\n{END}\n"
    head, _, rest = doc.partition(START)
    _, _, tail = rest.partition(END)
    DOC.write_text(f"{head}{START}\n{text}\n{END}{tail}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="one repetition, fewer connections, short runs")
    parser.add_argument("--scenarios", default=",".join(METRICS), help="comma-separated subset")
    parser.add_argument("--brokers", default=",".join(BROKERS))
    parser.add_argument("--repeat", type=int, default=None)
    args = parser.parse_args()
    scenarios = [s for s in args.scenarios.split(",") if s]
    names = [b for b in args.brokers.split(",") if b]
    repeat = args.repeat or (1 if args.quick else 3)
    duration = 2.0 if args.quick else 5.0
    runs: list[dict[str, Any]] = []
    for scenario in scenarios:
        for name in names:
            if name not in ONLY.get(scenario, {name}):
                continue
            for rep in range(repeat):
                broker = brokers.start(name, persistent=scenario in PERSISTENT, api=scenario in WITH_API)
                try:
                    result = run_loader(scenario, broker, duration, args.quick)
                finally:
                    broker.stop()
                runs.append({"scenario": scenario, "broker": name, "rep": rep, **result})
                print(f"{scenario:9} {name:10} #{rep + 1}: {json.dumps(result)}", flush=True)
    medians: dict[str, dict[str, dict[str, Any]]] = {}
    for name in names:
        for scenario in scenarios:
            mine = [r for r in runs if r["broker"] == name and r["scenario"] == scenario]
            keys = {k for r in mine for k in r} - {"scenario", "broker", "rep", "error"}
            medians.setdefault(name, {})[scenario] = {k: median([r.get(k) for r in mine]) for k in keys}
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    header = (
        f"Measured {when} on {machine()}; {repeat} repetition(s), medians; "
        f"{'quick run' if args.quick else 'full run'}; "
        + ", ".join(brokers.versions().values())
        + "; broker pinned to core 0, loader to core 1; MQTT 3.1.1, 64-byte payloads."
    )
    text = f"{header}\n\n{table(medians, scenarios)}"
    print()
    print(text)
    full = set(names) == set(BROKERS) and set(scenarios) == set(METRICS)
    results = RESULTS if full else brokers.WORK / "partial.json"  # a subset never replaces a full run
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(
        json.dumps(
            {"when": when, "machine": machine(), "quick": args.quick, "runs": runs, "medians": medians},
            indent=1,
        )
    )
    if full:
        update_doc(text)


if __name__ == "__main__":
    main()
