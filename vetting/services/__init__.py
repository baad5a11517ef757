"""Use cases. Every service function takes the session and the acting account (or a system
actor) explicitly, owns its transaction, writes audit events and raises domain errors.
The API, the pages, the CLI and the jobs all call these; none of them reads Flask globals."""
