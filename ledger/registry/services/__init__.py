"""Registry use cases: every state change is one ledger entry (or one atomic group of entries),
recorded through ``ledger.recording.record_entry`` and so applied to the holdings projection in
the same unit of work.

Each function validates with the pure rules and raises a named domain error for a rejected
action; an action that appends several entries may find the problem after its first entry, so
the caller's unit of work rolls back as a whole and nothing of a rejected action is committed.

One module per action family; callers use the package (``services.transfer(...)``):

- ``reference_data``: Parties and NDCs, registries, cooperative approaches, accounts, OIMP
  first-transfer definitions;
- ``authorizations``: authorizations and their versions, authorized entities, authorization of
  held units;
- ``issuance``: issuance of mitigation outcomes; ``jcm``: Joint Committee decisions, which
  issuance citing them follows;
- ``movements``: first transfer, transfer and acquisition, acquisition from external registries;
- ``retirement``: use towards an NDC, OIMP use, cancellation;
- ``lookups`` and ``blocks``: what the families share (loading records, carving blocks).
"""

from ledger.registry.services.authorizations import (
    authorize_units,
    record_authorization,
    record_authorized_entity,
    revoke_authorization,
)
from ledger.registry.services.conversions import (
    CONVERSION_RECORDED,
    conversions,
    read_conversion,
    record_conversion,
)
from ledger.registry.services.issuance import Issuance, IssuanceShare, issue
from ledger.registry.services.jcm import (
    JC_DECISION_RECORDED,
    DecisionNotFound,
    DecisionQuantityExceeded,
    DecisionShare,
    IssuanceOutsideDecision,
    JcDecision,
    Recipient,
    RecordedDecision,
    decision_of,
    find_decision,
    record_decision,
)
from ledger.registry.services.lookups import (
    account_of,
    approach_of,
    authorization_of,
    ensure_registry_owns_account,
    external_account_id,
    party_of,
    registry_of,
    serial_history,
)
from ledger.registry.services.movements import (
    ADAPTATION_FUND_SUBTYPE,
    FIRST_TRANSFER_TO_PARTY,
    ExternalAcquisition,
    TransferOrder,
    acquire_from_external,
    transfer,
)
from ledger.registry.services.reference_data import (
    declare_first_transfer_definition,
    declare_ndc,
    open_account,
    register_cooperative_approach,
    register_party,
    register_registry,
)
from ledger.registry.services.retirement import (
    CancellationOrder,
    UseOrder,
    cancel,
    use_for_ndc,
    use_for_oimp,
)

__all__ = [
    "JC_DECISION_RECORDED",
    "DecisionNotFound",
    "DecisionQuantityExceeded",
    "DecisionShare",
    "IssuanceOutsideDecision",
    "JcDecision",
    "Recipient",
    "RecordedDecision",
    "decision_of",
    "find_decision",
    "record_decision",
    "ADAPTATION_FUND_SUBTYPE",
    "FIRST_TRANSFER_TO_PARTY",
    "CancellationOrder",
    "ExternalAcquisition",
    "Issuance",
    "IssuanceShare",
    "TransferOrder",
    "UseOrder",
    "account_of",
    "acquire_from_external",
    "approach_of",
    "authorization_of",
    "authorize_units",
    "cancel",
    "declare_first_transfer_definition",
    "declare_ndc",
    "ensure_registry_owns_account",
    "external_account_id",
    "issue",
    "open_account",
    "party_of",
    "record_authorization",
    "CONVERSION_RECORDED",
    "conversions",
    "record_conversion",
    "read_conversion",
    "revoke_authorization",
    "record_authorized_entity",
    "register_cooperative_approach",
    "register_party",
    "register_registry",
    "registry_of",
    "serial_history",
    "transfer",
    "use_for_ndc",
    "use_for_oimp",
]
