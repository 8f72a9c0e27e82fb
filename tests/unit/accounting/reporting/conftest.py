from __future__ import annotations

import pytest

from tests.fakes import FakeUnitOfWork
from tests.registry_world import NOW, at, build_world
from tests.unit.registry.in_memory import act


@pytest.fixture
def uow() -> FakeUnitOfWork:
    """The registry world of ``tests.registry_world``, committed in an in-memory unit of work."""
    fake = FakeUnitOfWork(at(NOW))
    act(fake, build_world)
    return fake
