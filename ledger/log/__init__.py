"""The verifiable log: entries and their hash chain, canonical bytes, the RFC 9162 Merkle tree,
C2SP signed notes and checkpoints, witness cosignatures, and signed exports with their verifier.

- ``canonical``, ``chain``: an entry's RFC 8785 bytes, its hash and the hash chain.
- ``merkle``: hashing and proof verification; ``merkle_store``: roots, proofs and appends over
  the stored perfect subtrees.
- ``encoding``, ``keys``, ``note``: C2SP key texts and signed notes (signers, verifiers, format);
  ``tlog_checkpoint``, ``tlog_cosignature``, ``tlog_proof``: what those notes carry.
- ``checkpoints``: when the log signs (never two inconsistent checkpoints); ``witness``: which
  partner cosignatures it accepts and serves.
- ``export_format``, ``export_build``, ``export_manifest``, ``export_verify``: signed exports as
  members of bytes; their ZIP/directory container is ``ledger.adapters.export_files``.
"""
