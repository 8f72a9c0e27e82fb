"""Request and response models of authorizations and authorized entities."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, StrictBool

from app.schemas.base import (
    AuthorizationId,
    CaId,
    LedgerDate,
    LongText,
    MetricName,
    PartyCode,
    Quantity,
    RegistryId,
    RequestModel,
    ResponseModel,
    ShortText,
    Year,
)
from ledger.registry.codec import to_json
from ledger.registry.model import (
    GASES,
    Authorization,
    AuthorizedEntity,
    FirstTransferDefinition,
    Metric,
    NonGhgConversion,
    Purpose,
)

Gas = Literal["CO2", "CH4", "N2O", "HFCs", "PFCs", "SF6", "NF3"]  # model.GASES


class AuthorizationCreate(RequestModel):
    """One version of an authorization (AEF Table 2). Posting an existing id records a new
    version; ITMOs already first transferred keep the version they were transferred under.
    Its action date is ``authorized_on``: not in the future, and in a reported year whose AEF
    was submitted only with ``restates``."""

    authorization_id: AuthorizationId
    party: PartyCode
    ca_id: CaId
    authorized_on: LedgerDate
    purposes: Purpose
    metric: Metric
    gwp: ShortText
    sectors: list[ShortText] = Field(default_factory=list, max_length=50)
    activity_types: list[ShortText] = Field(default_factory=list, max_length=50)
    vintage_from: Year
    vintage_to: Year
    quantity: Quantity | None = None
    non_ghg_metric: MetricName | None = None
    authorized_parties: list[PartyCode] = Field(default_factory=list, max_length=200)
    authorized_entities: list[ShortText] = Field(default_factory=list, max_length=1000)
    oimp_authorized: ShortText | None = None
    first_transfer_definition: str | None = Field(
        default=None,
        description="OIMP first-transfer definition: Authorization, Issuance or Use or "
        "cancellation (the nomenclature spellings Authorisation / Use or Cancellation are "
        "accepted too)",
    )
    valid_until: LedgerDate | None = None
    terms: LongText | None = None
    documentation: LongText | None = None
    explanatory: LongText | None = None
    standards: list[ShortText] = Field(
        default_factory=list,
        max_length=50,
        description="4/CMA.6 para 5(f): underlying regulations, frameworks, standards or "
        "procedures",
    )
    methodologies: list[ShortText] = Field(
        default_factory=list,
        max_length=200,
        description="4/CMA.6 para 5(f): the methodologies underpinning the approach",
    )
    change_process: LongText | None = Field(
        default=None,
        description="4/CMA.6 para 5(g): when the authorization may change and how changes are "
        "managed to avoid double counting",
    )
    tracking_registry: RegistryId | None = Field(
        default=None,
        description="4/CMA.6 para 5(i): the registry (registered here) that tracks the ITMOs",
    )
    underlying_registries: list[ShortText] = Field(
        default_factory=list,
        max_length=50,
        description="4/CMA.6 para 5(j): when given, only units from these underlying registries "
        "are bound to the authorization",
    )
    gases: list[Gas] = Field(
        default_factory=list,
        max_length=len(GASES),
        description="4/CMA.6 para 5(l): the greenhouse gases covered",
    )
    issuance_until: LedgerDate | None = Field(
        default=None,
        description="4/CMA.6 para 5(c): the final date for units to be issued under it",
    )
    restates: StrictBool = Field(
        default=False,
        description="``authorized_on`` lies in a reported year whose AEF was already submitted "
        "and the new version restates it.",
    )

    def to_domain(self) -> Authorization:
        data: dict[str, Any] = self.model_dump(exclude={"restates"})
        definition = data.pop("first_transfer_definition")
        for name in (
            "sectors",
            "activity_types",
            "authorized_parties",
            "authorized_entities",
            "standards",
            "methodologies",
            "underlying_registries",
            "gases",
        ):
            data[name] = tuple(data[name])
        return Authorization(
            version=0,
            first_transfer_definition=(
                None if definition is None else FirstTransferDefinition.parse(definition)
            ),
            **data,
        )


class AuthorizationPublic(ResponseModel):
    authorization_id: str
    version: int
    party: str
    ca_id: str
    authorized_on: date
    purposes: Purpose
    metric: Metric
    gwp: str
    sectors: list[str]
    activity_types: list[str]
    vintage_from: int
    vintage_to: int
    quantity: int | None
    non_ghg_metric: str | None
    authorized_parties: list[str]
    authorized_entities: list[str]
    oimp_authorized: str | None
    first_transfer_definition: FirstTransferDefinition | None
    valid_until: date | None
    terms: str | None
    documentation: str | None
    explanatory: str | None
    recorded_seq: int
    standards: list[str]
    methodologies: list[str]
    change_process: str | None
    tracking_registry: str | None
    underlying_registries: list[str]
    gases: list[str]
    issuance_until: date | None
    revoked_on: date | None
    revocation_reason: str | None

    @classmethod
    def from_domain(cls, authorization: Authorization) -> AuthorizationPublic:
        return cls.model_validate(to_json(authorization))


def not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


class AuthorizationRevocationCreate(RequestModel):
    """The revocation of an authorization: a new version dated ``revoked_on``. Units first
    transferred before keep their version; no unit is bound, issued or first transferred under
    the authorization from that date on."""

    revoked_on: LedgerDate
    reason: Annotated[LongText, AfterValidator(not_blank)] = Field(
        description="Why the authorization is revoked: printable text (line breaks and tabs "
        "allowed), not blank."
    )
    restates: StrictBool = Field(
        default=False,
        description="``revoked_on`` lies in a reported year whose AEF was already submitted "
        "and the revocation restates it.",
    )


class NonGhgConversionCreate(RequestModel):
    """An authorized conversion of a non-GHG metric to t CO2 eq for a cooperative approach and
    a range of vintages (2/CMA.3 annex paras 9, 22(d)): ``factor`` t CO2 eq per unit, an exact
    decimal string. Without one, non-GHG ITMOs are not used towards a t CO2 eq NDC and the AEF
    leaves their t CO2 eq quantity blank. Its action date is ``authorized_on``."""

    conversion_id: AuthorizationId
    ca_id: CaId
    non_ghg_metric: MetricName
    factor: Annotated[
        str,
        Field(
            pattern=r"^(0|[1-9]\d{0,11})(\.\d{1,12})?$",
            examples=["0.4571"],
            description="t CO2 eq per unit of the non-GHG metric, exact (a decimal string)",
        ),
    ]
    vintage_from: Year
    vintage_to: Year
    authorized_by: ShortText = Field(
        description="Who authorized the conversion (e.g. the Joint Committee, a Party's "
        "authority) and by which act"
    )
    authorized_on: LedgerDate
    reference: LongText | None = None
    restates: StrictBool = False

    def to_domain(self) -> NonGhgConversion:
        return NonGhgConversion(**self.model_dump(exclude={"restates"}))


class NonGhgConversionPublic(ResponseModel):
    conversion_id: str
    ca_id: str
    non_ghg_metric: str
    factor: str
    vintage_from: int
    vintage_to: int
    authorized_by: str
    authorized_on: date
    reference: str | None

    @classmethod
    def from_domain(cls, conversion: NonGhgConversion) -> NonGhgConversionPublic:
        return cls.model_validate(to_json(conversion))


class AuthorizedEntityCreate(RequestModel):
    entity_id: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")]
    name: ShortText
    country: PartyCode
    identification: ShortText
    ca_id: CaId
    authorized_on: LedgerDate
    conditions: LongText | None = None
    change_conditions: LongText | None = None
    explanatory: LongText | None = None

    def to_domain(self) -> AuthorizedEntity:
        return AuthorizedEntity(**self.model_dump())


class AuthorizedEntityPublic(ResponseModel):
    entity_id: str
    name: str
    country: str
    identification: str
    ca_id: str
    authorized_on: date
    conditions: str | None
    change_conditions: str | None
    explanatory: str | None

    @classmethod
    def from_domain(cls, entity: AuthorizedEntity) -> AuthorizedEntityPublic:
        return cls.model_validate(to_json(entity))
