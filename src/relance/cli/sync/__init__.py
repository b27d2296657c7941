"""`relance followups sync --into TARGET`: a mirror of the company's followups, kept by the
export (a consistent snapshot) and then the changes feed, in a SQLite file, a PostgreSQL
database or a JSON Lines file (targets.py says what each holds).

Crash safety: the cursor the mirror continues from is stored in the target itself, in the same
transaction as the rows it covers (a page of the feed, or the whole snapshot), so that a stop
at any point (SIGKILL included) leaves the mirror at the last page applied, and the next run
goes on from there, with no change lost or applied twice."""
