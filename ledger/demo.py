"""A realistic multi-Party JCM scenario, for ``a6ledger demo`` and for tests.

Japan (JPN01) and its partners Thailand (THA01) and Mongolia (MNG01) share one instance (the JCM
allows a consolidated system); Switzerland's registry (CHE01) is external. Figures follow the
first Article 6 JCM issuance (Thailand, 5 MW floating solar, vintage 2021: 2,017 t, Japan's share
1,009 t; MOEJ press release 11 Nov 2025).
"""

from __future__ import annotations

from datetime import date

from ledger.ports import UnitOfWork
from ledger.registry import services
from ledger.registry.model import (
    Account,
    AccountType,
    Authorization,
    AuthorizedEntity,
    CaMethod,
    CancellationKind,
    CooperativeApproach,
    FirstTransferDefinition,
    Metric,
    MitigationType,
    NdcDeclaration,
    NdcType,
    Party,
    Purpose,
    Registry,
    UnitAttributes,
    UnitSelection,
)

ADMIN = "demo:admin"

JAPAN_NDC = NdcDeclaration(
    NdcType.SINGLE_YEAR, Metric.GHG, 2021, 2030, CaMethod.AVERAGING, target_year=2030
)
THAILAND_NDC = NdcDeclaration(
    NdcType.SINGLE_YEAR, Metric.GHG, 2021, 2030, CaMethod.AVERAGING, target_year=2030
)
MONGOLIA_NDC = NdcDeclaration(
    NdcType.MULTI_YEAR, Metric.GHG, 2021, 2030, CaMethod.ANNUAL, target_year=2030
)


def solar(registry_id: str, party: str, ca_id: str, vintage: int) -> UnitAttributes:
    return UnitAttributes(
        ca_id=ca_id,
        registry_id=registry_id,
        first_transferring_party=party,
        vintage=vintage,
        metric=Metric.GHG,
        gwp="AR5",
        mitigation_type=MitigationType.EMISSION_REDUCTIONS,
        sector="Energy generation",
        activity_type="Solar",
        underlying_registry="JCM",
    )


def set_up_reference_data(uow: UnitOfWork) -> None:
    """Parties, registries, cooperative approaches and accounts."""
    for code, name, ndc in (
        ("JPN", "Japan", JAPAN_NDC),
        ("THA", "Thailand", THAILAND_NDC),
        ("MNG", "Mongolia", MONGOLIA_NDC),
        ("CHE", "Switzerland", None),
    ):
        services.register_party(uow, Party.with_ndc(code, name, ndc), ADMIN)
    for registry_id, party, hosted in (
        ("JPN01", "JPN", True),
        ("THA01", "THA", True),
        ("MNG01", "MNG", True),
        ("CHE01", "CHE", False),
    ):
        services.register_registry(
            uow, Registry(registry_id, party, f"{party} ITMO registry", hosted), ADMIN
        )
    services.register_cooperative_approach(
        uow, CooperativeApproach("CA0001", "JCM Japan-Thailand", ("JPN", "THA")), ADMIN
    )
    services.register_cooperative_approach(
        uow, CooperativeApproach("CA0002", "JCM Japan-Mongolia", ("JPN", "MNG")), ADMIN
    )
    for registry_id in ("JPN01", "THA01", "MNG01"):
        for suffix, kind in (
            ("GOV", AccountType.HOLDING),
            ("NDC", AccountType.NDC_USE),
            ("OIMP", AccountType.OIMP_USE),
            ("CANCEL", AccountType.CANCELLATION),
            ("OMGE", AccountType.VOLUNTARY_CANCELLATION),
        ):
            services.open_account(
                uow,
                Account(f"{registry_id}-{suffix}", registry_id, kind, f"{registry_id} {suffix}"),
                ADMIN,
            )
    services.open_account(
        uow, Account("THA01-PP", "THA01", AccountType.HOLDING, "Project participant"), ADMIN
    )


def thai_ndc_authorization() -> Authorization:
    return Authorization(
        authorization_id="THA-JCM-2025-001",
        version=0,
        party="THA",
        ca_id="CA0001",
        authorized_on=date(2025, 10, 30),
        purposes=Purpose.NDC,
        metric=Metric.GHG,
        gwp="AR5",
        sectors=("Energy generation",),
        activity_types=("Solar",),
        vintage_from=2021,
        vintage_to=2030,
        quantity=100_000,
        authorized_parties=("JPN",),
        valid_until=date(2032, 12, 31),
    )


def mongolian_corsia_authorization() -> Authorization:
    """Mongolia's authorization of 3,000 t for CORSIA (OIMP), first transferred at authorization."""
    return Authorization(
        authorization_id="MNG-CORSIA-2026-01",
        version=0,
        party="MNG",
        ca_id="CA0002",
        authorized_on=date(2025, 11, 10),
        purposes=Purpose.OIMP,
        metric=Metric.GHG,
        gwp="AR5",
        sectors=("Energy generation",),
        activity_types=("Solar",),
        vintage_from=2021,
        vintage_to=2030,
        quantity=3_000,
        authorized_entities=("MNG-E-0001",),
        oimp_authorized="CORSIA",
        first_transfer_definition=FirstTransferDefinition.AUTHORIZATION,
    )


def load_demo(uow: UnitOfWork) -> None:
    """The whole scenario: issuance, authorization, first transfer, acquisition, use, OIMP."""
    set_up_reference_data(uow)
    # Thailand authorizes Japan's share for NDC use (the JCM cooperative approach).
    services.record_authorization(uow, thai_ndc_authorization(), "demo:THA01")
    # The Joint Committee decides the issuance: 2,017 t, of which Japan's share is 1,009 t.
    services.issue(
        uow,
        services.Issuance(
            registry_id="THA01",
            attributes=solar("THA01", "THA", "CA0001", 2021),
            shares=(
                services.IssuanceShare("THA01-GOV", 1_009, "THA-JCM-2025-001", underlying_first=1),
                services.IssuanceShare("THA01-PP", 1_008, None, underlying_first=1_010),
            ),
            decision_reference="JC7 2025-10-30",
        ),
        "demo:THA01",
    )
    # First transfer to Japan (first international transfer of NDC-authorized units).
    services.transfer(
        uow,
        services.TransferOrder("THA01-GOV", "JPN01-GOV", UnitSelection(quantity=1_009)),
        "demo:THA01",
    )
    # Japan uses part of it towards its NDC for 2025.
    services.use_for_ndc(
        uow,
        services.UseOrder("JPN01-GOV", "JPN01-NDC", UnitSelection(quantity=600), use_year=2025),
        "demo:JPN01",
    )
    # Mongolia: OIMP (CORSIA) flow with the "Authorization" first-transfer definition.
    services.record_authorized_entity(
        uow,
        AuthorizedEntity(
            "MNG-E-0001",
            "Ulaanbaatar Air Cargo LLC",
            "MNG",
            "MN-1234567",
            "CA0002",
            date(2025, 11, 4),
        ),
        "demo:MNG01",
    )
    services.issue(
        uow,
        services.Issuance(
            registry_id="MNG01",
            attributes=solar("MNG01", "MNG", "CA0002", 2023),
            shares=(services.IssuanceShare("MNG01-GOV", 5_000, None, underlying_first=1),),
            decision_reference="JC12 2025-11-10",
        ),
        "demo:MNG01",
    )
    services.record_authorization(uow, mongolian_corsia_authorization(), "demo:MNG01")
    services.authorize_units(
        uow, "MNG-CORSIA-2026-01", "MNG01-GOV", UnitSelection(quantity=3_000), "demo:MNG01"
    )
    services.use_for_oimp(
        uow,
        services.UseOrder(
            "MNG01-GOV",
            "MNG01-OIMP",
            UnitSelection(quantity=1_200),
            oimp_purpose="CORSIA",
            entity_id="MNG-E-0001",
        ),
        "demo:MNG01",
    )
    services.cancel(
        uow,
        services.CancellationOrder(
            "MNG01-GOV", "MNG01-OMGE", UnitSelection(quantity=100), CancellationKind.VOLUNTARY_OMGE
        ),
        "demo:MNG01",
    )
