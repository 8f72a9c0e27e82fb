from __future__ import annotations

import pytest
from sqlalchemy import Engine

from tests.integration.registry.world import write
from tests.registry_world import build_world


@pytest.fixture
def world(engine: Engine) -> Engine:
    """A fresh migrated database holding the reference data of ``world.build_world``."""
    write(engine, build_world)
    return engine
