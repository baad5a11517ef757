"""Releases: numbered, immutable, signed publications of the red and black lists.

A release is a folder ``<storage>/<number>/`` holding ``listings.csv``, ``red.csv``,
``black.csv``, ``delta.csv`` (against the previous release), ``datapackage.json`` (a
Frictionless description), ``entities.ftm.json`` (FollowTheMoney entities), ``index.json`` (the
manifest: counts, and each file's rows, bytes and SHA-256) and ``index.json.sig`` (an Ed25519
signature of the manifest). It is written into a temporary folder beside the target, synced, and
renamed into place: the rename is the publication, so a crash leaves nothing visible and two
publishers racing for one number cannot both win. Nothing in a published folder is written again.

- ``snapshot``: the rows, read from the database as of one instant, streamed; each line is
  stored once built and reused while the database's marks show nothing it shows has changed.
- ``files``: CSV writing, the delta against the previous release, the manifest and the data
  package.
- ``signing``: the key pair, signatures, verification.
- ``release``: publishing, listing and verifying releases.
"""
