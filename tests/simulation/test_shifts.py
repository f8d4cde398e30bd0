"""Shift scheduling with CP-SAT on instances whose optimum can be worked out by hand."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from liucheng.simulation import (
    InfeasibleScheduleError,
    SimulationInputError,
    agents_for_target,
    read_demand,
    schedule_shifts,
)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def shifts_file(tmp_path: Path, data: dict) -> Path:
    return write(tmp_path, "shifts.yaml", yaml.safe_dump(data))


def demand_file(tmp_path: Path, rows: list[tuple[str, float]], column: str = "agents") -> Path:
    body = "start," + column + "\n" + "".join(f"{s},{v}\n" for s, v in rows)
    return write(tmp_path, "demand.csv", body)


def coverage(result) -> dict[str, tuple[int, int]]:
    return {i["start"]: (i["required"], i["scheduled"]) for i in result["intervals"]}


def test_two_hour_shifts_cover_a_peak(tmp_path):
    # Required 2,2,3,3,1 from 08:00 in 30-minute steps; 2-hour shifts starting 07:00–10:00.
    # Slot 09:00 needs 3 agents and every shift is 4 slots long, so 3 shifts (6 h) are a lower
    # bound, and 2 x 08:00 + 1 x 08:30 reaches it: cost 6 h x 10 = 60.
    demand = demand_file(
        tmp_path,
        [("Mon 08:00", 2), ("Mon 08:30", 2), ("Mon 09:00", 3), ("Mon 09:30", 3), ("Mon 10:00", 1)],
    )
    shifts = shifts_file(
        tmp_path,
        {
            "shifts": [
                {
                    "name": "short",
                    "length": 2,
                    "days": ["mon"],
                    "earliest_start": "07:00",
                    "latest_start": "10:00",
                    "start_every_minutes": 30,
                    "cost_per_hour": 10,
                }
            ]
        },
    )
    result = schedule_shifts(demand, shifts).to_dict()
    assert result["status"] == "optimal"
    assert result["cost"] == 60.0
    assert result["shift_count"] == 3
    for start, (required, scheduled) in coverage(result).items():
        assert scheduled >= required, start
    assert result["understaffed_intervals"] == 0


@pytest.mark.parametrize(
    ("long_rate", "expected"), [(10.0, ("long", 1, 40.0)), (13.0, ("short", 2, 48.0))]
)
def test_cheaper_pattern_wins_when_costs_change(tmp_path, long_rate, expected):
    # One agent needed 08:00–12:00. A 4-hour shift costs 4 x long_rate; two 2-hour shifts cost
    # 2 x 2 x 12 = 48. At 10/h the long shift (40) wins, at 13/h (52) the short ones do.
    demand = demand_file(tmp_path, [(f"Mon {h:02d}:00", 1) for h in range(8, 12)])
    shifts = shifts_file(
        tmp_path,
        {
            "shifts": [
                {
                    "name": "long",
                    "length": "4:00",
                    "days": ["mon"],
                    "start_times": ["08:00"],
                    "cost_per_hour": long_rate,
                },
                {
                    "name": "short",
                    "length": 2,
                    "days": ["mon"],
                    "start_times": ["08:00", "10:00"],
                    "cost_per_hour": 12,
                },
            ]
        },
    )
    result = schedule_shifts(demand, shifts).to_dict()
    name, count, cost = expected
    assert {s["shift"] for s in result["shifts"]} == {name}
    assert result["shift_count"] == count
    assert result["cost"] == cost
    assert result["interval_minutes"] == 60


def test_unpaid_breaks_are_placed_and_staggered(tmp_path):
    # One agent needed 08:00–12:00; 4-hour shifts from 08:00 with an unpaid 1-hour break starting
    # 1 or 2 hours in. One agent leaves a gap, two with staggered breaks cover every hour:
    # cost 2 x 3 paid hours x 10 = 60.
    demand = demand_file(tmp_path, [(f"Mon {h:02d}:00", 1) for h in range(8, 12)])
    shifts = shifts_file(
        tmp_path,
        {
            "shifts": [
                {
                    "name": "day",
                    "length": 4,
                    "days": ["mon"],
                    "start_times": ["08:00"],
                    "cost_per_hour": 10,
                    "breaks": [{"minutes": 60, "earliest": 1, "latest": "2:00"}],
                }
            ]
        },
    )
    result = schedule_shifts(demand, shifts).to_dict()
    assert result["cost"] == 60.0
    assert result["paid_hours"] == 6.0
    (shift,) = result["shifts"]
    assert shift["count"] == 2
    assert sorted(b["start"] for b in shift["breaks"]) == ["09:00", "10:00"]
    assert all(req <= sch for req, sch in coverage(result).values())


def test_week_wraps_from_sunday_to_monday(tmp_path):
    demand = demand_file(
        tmp_path, [("Sun 22:00", 1), ("Sun 23:00", 1), ("Mon 00:00", 1), ("Mon 01:00", 1)]
    )
    shifts = shifts_file(
        tmp_path,
        {
            "shifts": [
                {
                    "name": "night",
                    "length": 4,
                    "days": ["sun"],
                    "start_times": ["22:00"],
                    "cost_per_hour": 15,
                }
            ]
        },
    )
    result = schedule_shifts(demand, shifts).to_dict()
    assert result["cost"] == 60.0
    assert result["shifts"][0]["day"] == "sun" and result["shifts"][0]["end"] == "02:00"
    assert coverage(result)["Mon 01:00"] == (1, 1)


def test_uncoverable_interval_is_a_clear_error(tmp_path):
    demand = demand_file(tmp_path, [("Mon 08:00", 1), ("Tue 20:00", 2)])
    shifts = shifts_file(
        tmp_path,
        {
            "interval_minutes": 60,
            "shifts": [
                {
                    "name": "day",
                    "length": 8,
                    "days": ["mon", "tue"],
                    "start_times": ["08:00"],
                    "cost_per_hour": 10,
                }
            ],
        },
    )
    with pytest.raises(InfeasibleScheduleError) as info:
        schedule_shifts(demand, shifts)
    assert "Tue 20:00" in str(info.value)
    assert info.value.code == "simulation.schedule.infeasible"
    assert info.value.details["intervals"] == ["Tue 20:00"]


def test_limits_that_cannot_be_met_are_infeasible(tmp_path):
    demand = demand_file(tmp_path, [("Mon 08:00", 3)])
    shifts = shifts_file(
        tmp_path,
        {
            "headcount": {"people": 2},
            "interval_minutes": 60,
            "shifts": [
                {
                    "name": "day",
                    "length": 8,
                    "days": ["mon"],
                    "start_times": ["08:00"],
                    "cost_per_hour": 10,
                }
            ],
        },
    )
    with pytest.raises(InfeasibleScheduleError, match="headcount"):
        schedule_shifts(demand, shifts)


def test_understaffing_penalty_trades_cost_against_coverage(tmp_path):
    # 08:00-16:00 is worth a shift (80 < 8 x penalty). Covering Mon 20:00 needs a whole
    # 8-hour shift (80) for one interval; at a penalty of 50 per missing agent-hour the solver
    # leaves it short, at 100 it staffs it.
    rows = [(f"Mon {h:02d}:00", 1) for h in range(8, 16)] + [("Mon 20:00", 1)]
    demand = demand_file(tmp_path, rows)
    base = {
        "interval_minutes": 60,
        "shifts": [
            {
                "name": "day",
                "length": 8,
                "days": ["mon"],
                "start_times": ["08:00", "14:00"],
                "cost_per_hour": 10,
            }
        ],
    }
    cheap = schedule_shifts(
        demand, shifts_file(tmp_path, {**base, "understaffing_cost_per_hour": 50})
    )
    data = cheap.to_dict()
    assert data["cost"] == 80.0 and data["understaffing_penalty"] == 50.0
    assert data["understaffed_intervals"] == 1
    dear = schedule_shifts(
        demand, shifts_file(tmp_path, {**base, "understaffing_cost_per_hour": 100})
    )
    assert dear.to_dict()["cost"] == 160.0 and dear.to_dict()["understaffed_intervals"] == 0


def test_calls_are_turned_into_agents_with_erlang_c(tmp_path):
    demand = demand_file(tmp_path, [("Mon 08:00", 100), ("Mon 08:30", 40)], column="calls")
    shifts = shifts_file(
        tmp_path,
        {
            "aht_seconds": 180,
            "interval_minutes": 30,
            "service_level": {"target": 0.8, "answer_seconds": 20},
            "shifts": [
                {
                    "name": "h",
                    "length": 1,
                    "days": ["mon"],
                    "start_times": ["08:00"],
                    "cost_per_hour": 20,
                }
            ],
        },
    )
    result = schedule_shifts(demand, shifts).to_dict()
    first, second = result["intervals"][:2]
    assert first["required"] == 14  # the reference Erlang C instance
    expected = agents_for_target(calls=40, interval_minutes=30, aht_seconds=180, target=0.8)
    assert second["required"] == expected.agents
    assert result["shift_count"] == 14
    assert first["service_level"] >= 0.8


def test_dated_demand_and_grid_inference(tmp_path):
    demand = write(
        tmp_path,
        "d.csv",
        "timestamp,agents\n2026-03-02T09:00,1\n2026-03-02T09:15,2\n2026-03-02T09:30,1\n",
    )
    table = read_demand(demand)
    assert table.interval_minutes == 15 and not table.weekly and table.slots == 3
    shifts = shifts_file(
        tmp_path,
        {
            "shifts": [
                {
                    "name": "q",
                    "length": "0:30",
                    "days": ["mon"],
                    "earliest_start": "09:00",
                    "latest_start": "09:30",
                    "start_every_minutes": 15,
                    "cost_per_hour": 8,
                }
            ]
        },
    )
    result = schedule_shifts(demand, shifts).to_dict()
    # 09:15 needs 2, each half-hour shift covers two slots: 2 shifts minimum (cost 8).
    assert result["cost"] == 8.0
    assert result["intervals"][0]["start"] == "2026-03-02T09:00"


@pytest.mark.parametrize(
    ("data", "path"),
    [
        (
            {"shifts": [{"name": "a", "length": 8, "start_times": ["08:00"], "cost_per_hour": -1}]},
            "shifts[0].cost_per_hour",
        ),
        (
            {
                "shifts": [
                    {
                        "name": "a",
                        "length": 8,
                        "start_times": ["08:00"],
                        "cost_per_hour": 1,
                        "days": ["someday"],
                    }
                ]
            },
            "shifts[0].days[0]",
        ),
        (
            {
                "shifts": [
                    {
                        "name": "a",
                        "length": 8,
                        "start_times": ["08:00"],
                        "cost_per_hour": 1,
                        "colour": "red",
                    }
                ]
            },
            "shifts[0].colour",
        ),
        ({"shifts": []}, "shifts"),
        (
            {
                "service_level": {"target": 2},
                "shifts": [
                    {"name": "a", "length": 8, "start_times": ["08:00"], "cost_per_hour": 1}
                ],
            },
            "service_level.target",
        ),
    ],
)
def test_bad_shifts_file_names_the_key(tmp_path, data, path):
    demand = demand_file(tmp_path, [("Mon 08:00", 1)])
    with pytest.raises(SimulationInputError) as info:
        schedule_shifts(demand, shifts_file(tmp_path, data))
    assert info.value.path == path
    assert info.value.file is not None and info.value.file.endswith("shifts.yaml")


def test_off_grid_start_is_rejected(tmp_path):
    demand = demand_file(tmp_path, [("Mon 08:00", 1), ("Mon 08:30", 1)])
    shifts = shifts_file(
        tmp_path,
        {"shifts": [{"name": "a", "length": 1, "start_times": ["08:10"], "cost_per_hour": 1}]},
    )
    with pytest.raises(SimulationInputError, match="grid"):
        schedule_shifts(demand, shifts)


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ("when,agents\nMon 08:00,1\n", "'start' column"),
        ("start,agents\nFunday 08:00,1\n", "row 2.start"),
        ("start,calls\nMon 08:00,-4\n", "row 2.calls"),
        ("start,agents\nMon 08:00,1\nMon 08:00,2\n", "listed twice"),
        ("start,agents\nMon 08:00,1.5\nMon 08:30,1\n", "whole number"),
        ("start,agents\n", "no rows"),
    ],
)
def test_bad_demand_rows(tmp_path, body, fragment):
    with pytest.raises(SimulationInputError) as info:
        read_demand(write(tmp_path, "bad.csv", body), interval_minutes=30)
    assert fragment in str(info.value)


def brute_force_cost(need: list[int], options: list[tuple[int, int, float]]) -> float:
    """Cheapest cover by enumeration; options are (first slot, length in slots, cost)."""
    import itertools

    best = float("inf")
    peak = max(need)
    for counts in itertools.product(range(peak + 1), repeat=len(options)):
        cover = [0] * len(need)
        for (first, length, _), c in zip(options, counts, strict=True):
            for k in range(first, min(first + length, len(need))):
                cover[k] += c
        if all(cv >= nd for cv, nd in zip(cover, need, strict=True)):
            best = min(best, sum(c * o[2] for o, c in zip(options, counts, strict=True)))
    return best


@pytest.mark.parametrize("seed", range(5))
def test_solver_matches_brute_force_on_random_small_instances(tmp_path, seed):
    import random

    rnd = random.Random(seed)
    hours = list(range(8, 14))  # Mon 08:00-13:00, 1-hour slots
    need = [rnd.randint(0, 3) for _ in hours]
    need[0] = max(need[0], 1)
    long_rate, short_rate = rnd.choice([9, 10, 11]), rnd.choice([10, 12, 14])
    demand = write(
        tmp_path,
        "demand.csv",
        "start,agents\n"
        + "".join(f"Mon {h:02d}:00,{n}\n" for h, n in zip(hours, need, strict=True)),
    )
    shifts = shifts_file(
        tmp_path,
        {
            "interval_minutes": 60,
            "shifts": [
                {
                    "name": "long",
                    "length": 4,
                    "days": ["mon"],
                    "start_times": ["08:00", "10:00"],
                    "cost_per_hour": long_rate,
                },
                {
                    "name": "short",
                    "length": 2,
                    "days": ["mon"],
                    "start_times": ["08:00", "10:00", "12:00"],
                    "cost_per_hour": short_rate,
                },
            ],
        },
    )
    result = schedule_shifts(demand, shifts).to_dict()
    options = [
        (0, 4, 4 * long_rate),
        (2, 4, 4 * long_rate),
        (0, 2, 2 * short_rate),
        (2, 2, 2 * short_rate),
        (4, 2, 2 * short_rate),
    ]
    assert result["cost"] == pytest.approx(brute_force_cost(need, options))
    assert result["cost"] == pytest.approx(sum(s["cost"] for s in result["shifts"]))
    by_start = coverage(result)
    for h, n in zip(hours, need, strict=True):
        if n:
            required, scheduled = by_start[f"Mon {h:02d}:00"]
            assert required == n <= scheduled


def test_unquoted_times_in_yaml_stay_times(tmp_path):
    # YAML 1.1 would read 17:00 as the number 1020 and 8:30 as 510.
    demand = demand_file(tmp_path, [(f"Mon {h:02d}:00", 1) for h in range(17, 21)])
    shifts = write(
        tmp_path,
        "shifts.yaml",
        """
interval_minutes: 60
shifts:
  - name: late
    length: 4:00
    days: [mon]
    start_times: [17:00]
    cost_per_hour: 10
    breaks:
      - {minutes: 60, earliest: 1:00, latest: 2:00, paid: true}
""",
    )
    result = schedule_shifts(demand, shifts).to_dict()
    assert result["shifts"][0]["start"] == "17:00"
    assert result["shifts"][0]["end"] == "21:00"
    assert result["cost"] == 80.0  # two agents (staggered paid breaks), 4 paid hours each
