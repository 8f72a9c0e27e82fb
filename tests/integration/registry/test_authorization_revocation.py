"""Authorizations carry the elements of 4/CMA.6 para 5, and an authorization can be revoked
(a new version, as an entry) without touching the units first transferred under it (paras 7-9).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from sqlalchemy import Engine

from ledger.accounting import reporting
from ledger.errors import (
    AuthorizationChangeForbidden,
    AuthorizationLimitExceeded,
    AuthorizationRevoked,
    InvalidInput,
    RegistryNotFound,
)
from ledger.ports import UnitOfWork
from ledger.registry import services
from ledger.registry.dating import Dating
from ledger.registry.model import Authorization
from tests.integration.registry.test_jcm_scenario import assert_projection_is_a_replay
from tests.integration.registry.world import assert_nothing_changed, blocks_in, read, write
from tests.registry_world import authorization, issuance, move, quantity, use

THA_NDC = "THA-NDC"
ELEMENTS: dict[str, Any] = {
    "standards": ("JCM Rules of Implementation",),
    "methodologies": ("TH_AM015",),
    "change_process": "Changes only by Joint Committee decision; first-transferred ITMOs keep "
    "their version",
    "tracking_registry": "THA01",
    "underlying_registries": ("JCM",),
    "gases": ("CO2", "CH4"),
    "issuance_until": date(2031, 12, 31),
}


def record(uow: UnitOfWork, **changes: Any) -> Authorization:
    draft = authorization(THA_NDC, authorized_parties=("JPN",), **{**ELEMENTS, **changes})
    return services.record_authorization(uow, draft, "THA01")


def test_an_authorization_records_the_elements_of_para_5(world: Engine) -> None:
    recorded = write(world, record)
    stored = read(world, lambda uow: uow.projection.get_authorization(THA_NDC))
    assert stored == recorded
    assert (stored.gases, stored.tracking_registry, stored.methodologies) == (
        ("CO2", "CH4"),
        "THA01",
        ("TH_AM015",),
    )
    for changes, error, rule in (
        ({"gases": ("CO2", "H2O")}, InvalidInput, "invalid-input"),
        ({"gases": ("CO2", "CO2")}, InvalidInput, "invalid-input"),
        ({"tracking_registry": "XYZ01"}, RegistryNotFound, "registry-known"),
        ({"issuance_until": date(2025, 1, 1)}, InvalidInput, "invalid-input"),
    ):
        assert_nothing_changed(
            world,
            lambda uow, changes=changes: record(uow, **changes),  # type: ignore[misc]
            error,
            rule,
        )
    # Only units of the named underlying registries are issued under it...
    plain = issuance(("THA01-GOV", 10, THA_NDC))
    outside = replace(
        plain, attributes=replace(plain.attributes, underlying_registry="Gold Standard")
    )
    assert_nothing_changed(
        world,
        lambda uow: services.issue(uow, outside, "THA01"),
        AuthorizationLimitExceeded,
        "authorization-limits",
    )
    # ...and none after its final date for issuance.
    write(
        world,
        lambda uow: services.record_authorization(
            uow,
            authorization(
                "THA-SHORT", authorized_on=date(2025, 10, 30), issuance_until=date(2025, 12, 31)
            ),
            "THA01",
        ),
    )
    assert_nothing_changed(
        world,
        lambda uow: services.issue(uow, issuance(("THA01-GOV", 5, "THA-SHORT")), "THA01"),
        AuthorizationLimitExceeded,
        "authorization-limits",
    )
    write(
        world,
        lambda uow: services.issue(
            uow, issuance(("THA01-GOV", 5, "THA-SHORT")), "THA01", dating=Dating(date(2025, 12, 1))
        ),
    )
    assert_projection_is_a_replay(world)


def test_a_revoked_authorization_leaves_first_transferred_units_alone(world: Engine) -> None:
    def issue_and_transfer(uow: UnitOfWork) -> None:
        record(uow)
        services.issue(
            uow, issuance(("THA01-GOV", 100, THA_NDC)), "THA01", dating=Dating(date(2025, 11, 3))
        )
        services.transfer(
            uow,
            move("THA01-GOV", "JPN01-GOV", quantity(60)),
            "THA01",
            dating=Dating(date(2025, 12, 1)),
        )

    write(world, issue_and_transfer)
    # A revocation is dated after the last first transfer under the authorization...
    assert_nothing_changed(
        world,
        lambda uow: services.revoke_authorization(
            uow, THA_NDC, date(2025, 12, 1), "project deregistered", "THA01"
        ),
        AuthorizationChangeForbidden,
        "authorization-change",
    )
    revoked = write(
        world,
        lambda uow: services.revoke_authorization(
            uow, THA_NDC, date(2026, 1, 15), "project deregistered", "THA01"
        ),
    )
    assert (revoked.version, revoked.authorized_on, revoked.revoked_on) == (
        2,
        date(2026, 1, 15),
        date(2026, 1, 15),
    )
    v1 = read(world, lambda uow: uow.projection.get_authorization(THA_NDC, 1))
    assert v1 is not None
    assert v1.revoked_on is None

    # Later first transfers, bindings, issuances and versions under it are refused...
    for action in (
        lambda uow: services.transfer(uow, move("THA01-GOV", "JPN01-GOV", quantity(10)), "T"),
        lambda uow: services.issue(uow, issuance(("THA01-GOV", 5, THA_NDC)), "THA01"),
        lambda uow: services.revoke_authorization(uow, THA_NDC, date(2026, 2, 1), "again", "T"),
        lambda uow: record(uow, authorized_on=date(2026, 2, 1)),
    ):
        assert_nothing_changed(world, action, AuthorizationRevoked, "authorization-not-revoked")
    write(world, lambda uow: services.issue(uow, issuance(("THA01-PP", 5, None)), "THA01"))
    assert_nothing_changed(
        world,
        lambda uow: services.authorize_units(uow, THA_NDC, "THA01-PP", quantity(5), "THA01"),
        AuthorizationRevoked,
        "authorization-not-revoked",
    )
    # ...while the first-transferred units keep version 1 and are used towards Japan's NDC.
    write(
        world,
        lambda uow: services.use_for_ndc(uow, use("JPN01-GOV", "JPN01-NDC", quantity(60)), "J"),
    )
    assert [(b.quantity, b.authorization_version) for b in blocks_in(world, "JPN01-NDC")] == [
        (60, 1)
    ]
    assert [b.quantity for b in blocks_in(world, "THA01-GOV")] == [40]

    rows = read(world, lambda uow: reporting.aef_report_for(uow, "THA", 2026).authorizations)
    (row,) = [r for r in rows if r.authorization_version == 2]
    assert row.additional_information == "Revoked on 15/01/2026: project deregistered"
    assert_projection_is_a_replay(world)
