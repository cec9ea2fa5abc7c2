"""A run as a LangGraph state machine: plan -> code -> check -> debug | profile -> analyze.

`graph` builds the graph from the roles (`routing` decides each edge from the state and the
budgets), `nodes` wraps roles and tools as nodes, `runner` starts, resumes, forks or replays a run
and writes its outputs, `learning` turns checks into lessons in memory, `approval` pauses for a
person, `studio` serves the graph to LangGraph Studio, `traces/` records every step (traces.db)
and shows, diffs, forks and replays runs. The path of a run: docs/architecture.md.
"""
