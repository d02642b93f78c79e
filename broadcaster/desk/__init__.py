"""The operator desk: a Vietnamese web page and an HTTP API over the station's files and control socket.

`store` edits schedule.yaml (round-trip, validated, atomic, with history); `accounts` keeps users,
sessions, tokens and the audit trail; `service` is every operation, shared by `pages` and `api`;
`app` assembles the FastAPI application; `supervisor` runs it beside the daemon as a separate
process so nothing it does can delay what is on air.
"""
