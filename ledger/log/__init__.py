"""The verifiable log: entries and their hash chain, canonical bytes, the RFC 9162 Merkle tree,
C2SP signed notes and checkpoints, witness cosignatures, and signed exports with their verifier."""
