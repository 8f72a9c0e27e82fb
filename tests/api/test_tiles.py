"""The C2SP tlog-tiles read API, checked with a tile client written here from the specs alone
(C2SP tlog-tiles, RFC 9162 §2.1), independent of ``ledger.log.tiles``, ``ledger.log.merkle`` and
``ledger.log.merkle_store``: it fetches tiles, recomputes the root of the checkpoint's tree size
and compares it with the signed checkpoint's, builds inclusion proofs from tiles and verifies them
with RFC 9162's algorithm, and checks entry bundles and the tiles of every level against each
other. Also: who may read what (``A6LEDGER_LOG_READ_ACCESS``, ``A6LEDGER_LOG_ENTRIES_ACCESS``).
"""

from __future__ import annotations

import hashlib
from functools import cache

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.settings import LogAccess, Settings
from ledger.adapters.sql.uow import SqlStorage
from tests.api.conftest import TokenFactory
from tests.api.test_log import independent_open_note

TILE = 256


def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def split(n: int) -> int:
    """The largest power of two smaller than n (RFC 9162 §2.1.1), n > 1."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(hashes: list[bytes]) -> bytes:
    """MTH over already-hashed children, RFC 9162 §2.1.1 recursion."""
    if len(hashes) == 1:
        return hashes[0]
    k = split(len(hashes))
    return node_hash(mth(hashes[:k]), mth(hashes[k:]))


def index_path(n: int) -> str:
    """tlog-tiles <N>: 3-digit groups, all but the last prefixed with x."""
    text = str(n)
    text = "0" * (-len(text) % 3) + text
    groups = [text[i : i + 3] for i in range(0, len(text), 3)]
    return "/".join([*("x" + group for group in groups[:-1]), groups[-1]])


def tile_url(level: int | str, n: int, width: int) -> str:
    suffix = "" if width == TILE else f".p/{width}"
    return f"/tile/{level}/{index_path(n)}{suffix}"


class TileClient:
    """Reads a tree of ``size`` leaves through tiles only."""

    def __init__(self, client: TestClient, size: int) -> None:
        self.client = client
        self.size = size
        self.fetched: set[str] = set()
        self.tile = cache(self._tile)

    def width(self, level: int, n: int) -> int:
        """Hashes in tile (level, n): the spec's floor(s / 256^l) hashes at level l."""
        return min(TILE, (self.size >> (8 * level)) - n * TILE)

    def _tile(self, level: int, n: int) -> list[bytes]:
        url = tile_url(level, n, self.width(level, n))
        response = self.client.get(url)
        assert response.status_code == 200, (url, response.text)
        assert response.headers["content-type"] == "application/octet-stream"
        self.fetched.add(url)
        data = response.content
        assert len(data) == 32 * self.width(level, n)
        return [data[i : i + 32] for i in range(0, len(data), 32)]

    def subtree(self, height: int, index: int) -> bytes:
        """MTH of the perfect subtree of leaves [index·2^h, (index+1)·2^h): a level-l tile hash
        (l = h // 8) or the MTH of the 2^(h mod 8) level-l hashes below it."""
        level, rest = divmod(height, 8)
        first = index << rest
        hashes = self.tile(level, first // TILE)
        return mth(hashes[first % TILE : first % TILE + (1 << rest)])

    def range_hash(self, low: int, high: int) -> bytes:
        """MTH(D[low:high]) by RFC 9162's recursion, reading perfect subtrees from tiles."""
        n = high - low
        if n & (n - 1) == 0 and low % n == 0:
            return self.subtree(n.bit_length() - 1, low // n)
        k = split(n)
        return node_hash(self.range_hash(low, low + k), self.range_hash(low + k, high))

    def inclusion_path(self, m: int, low: int, high: int) -> list[bytes]:
        """PATH(m, D[low:high]) of RFC 9162 §2.1.3.1."""
        n = high - low
        if n == 1:
            return []
        k = split(n)
        if m < k:
            return [*self.inclusion_path(m, low, low + k), self.range_hash(low + k, high)]
        return [*self.inclusion_path(m - k, low + k, high), self.range_hash(low, low + k)]


def verify_inclusion(leaf: bytes, index: int, size: int, path: list[bytes], root: bytes) -> None:
    """RFC 9162 §2.1.3.2, transcribed."""
    assert index < size
    fn, sn, r = index, size - 1, leaf
    for p in path:
        assert sn != 0
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    assert sn == 0
    assert r == root


def parse_bundle(data: bytes) -> list[bytes]:
    entries, position = [], 0
    while position < len(data):
        length = int.from_bytes(data[position : position + 2], "big")
        entries.append(data[position + 2 : position + 2 + length])
        position += 2 + length
    assert position == len(data)
    return entries


def grow_to(storage: SqlStorage, size: int, batch: int = 8192) -> None:
    """Append small entries straight through the SQL log, in batches, until it holds ``size``
    (issuing a token appended entries already)."""
    while True:
        with storage.unit_of_work(write=True) as uow:
            done = uow.log.size()
            if done >= size:
                return
            for n in range(done, min(size, done + batch)):
                uow.log.append("test.tile", {"n": n}, actor="test")
            uow.commit()


def signed_size_and_root(client: TestClient) -> tuple[int, bytes]:
    vkey = client.get("/v1/log/key").text
    response = client.get("/checkpoint")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.text == client.get("/v1/log/checkpoint").text
    _origin, size, root = independent_open_note(response.text, vkey)
    return size, root


def check_log_through_tiles(client: TestClient, expected_size: int, leaves: list[int]) -> None:
    size, root = signed_size_and_root(client)
    assert size == expected_size
    reader = TileClient(client, size)
    assert reader.range_hash(0, size) == root
    for index in leaves:
        bundle_n = index // TILE
        width = min(TILE, size - bundle_n * TILE)
        bundle = client.get(tile_url("entries", bundle_n, width))
        assert bundle.status_code == 200
        entry = parse_bundle(bundle.content)[index % TILE]
        path = reader.inclusion_path(index, 0, size)
        verify_inclusion(leaf_hash(entry), index, size, path, root)
        served = client.get("/v1/log/proofs/inclusion", params={"index": index, "tree_size": size})
        assert len(served.json()["audit_path"]) == len(path)


@pytest.fixture
def reader_client(client: TestClient, tokens: TokenFactory) -> TestClient:
    client.headers.update(tokens("auditor"))  # entries need a token by default
    return client


@pytest.mark.parametrize("size", [1, 255, 256, 257, 511, 512, 513])
def test_small_logs_verify_through_tiles(
    reader_client: TestClient, storage: SqlStorage, size: int
) -> None:
    grow_to(storage, size)
    indexes = sorted({0, size // 2, size - 1} | ({255, 256} & set(range(size))))
    check_log_through_tiles(reader_client, size, indexes)
    reader = TileClient(reader_client, size)
    for n in range((size + TILE - 1) // TILE):
        width = reader.width(0, n)
        bundle = reader_client.get(tile_url("entries", n, width))
        entries = parse_bundle(bundle.content)
        assert [leaf_hash(entry) for entry in entries] == reader.tile(0, n)
        page = reader_client.get(
            "/v1/log/entries", params={"start": n * TILE, "end": n * TILE + width}
        )
        assert page.content == b"".join(entry + b"\n" for entry in entries)


def test_65537_entries_verify_through_tiles_of_every_level(
    reader_client: TestClient, storage: SqlStorage
) -> None:
    size = TILE * TILE + 1
    grow_to(storage, size)
    check_log_through_tiles(reader_client, size, [0, 255, 256, 40_000, 65_535, 65_536])
    reader = TileClient(reader_client, size)
    # Level 1 holds the roots of the full level-0 tiles; level 2 (partial, 1 hash) that of the
    # full level-1 tile; level 0's last tile is partial with the one leaf over 65,536.
    level1 = reader.tile(1, 0)
    assert len(level1) == TILE
    assert [mth(reader.tile(0, n)) for n in range(TILE)] == level1
    assert reader.tile(2, 0) == [mth(level1)]
    assert reader.width(0, TILE) == 1
    assert reader_client.get("/tile/1/001.p/1").status_code == 404
    assert reader_client.get("/tile/2/000").status_code == 404
    assert reader_client.get("/tile/0/256.p/2").status_code == 404


def test_tile_headers_paths_and_gzip(reader_client: TestClient, storage: SqlStorage) -> None:
    grow_to(storage, 300)
    full = reader_client.get("/tile/0/000")
    assert full.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert len(full.content) == 8192
    partial = reader_client.get("/tile/0/001.p/44")
    assert partial.status_code == 200
    assert partial.headers["cache-control"] == "public, max-age=60"
    narrower = reader_client.get("/tile/0/001.p/10")  # an older checkpoint's partial tile
    assert narrower.content == partial.content[: 10 * 32]
    for missing in [
        "/tile/0/001",  # not full yet
        "/tile/0/001.p/45",  # wider than the tree
        "/tile/0/002.p/1",
        "/tile/1/000.p/2",
        "/tile/00/000",
        "/tile/0/0.p/1",
        "/tile/0/x000/001.p/44",
        "/tile/0/001.p/044",
        "/tile/0/001.p/256",
        "/tile/0/001.p/0",
        "/tile/64/000",
        "/tile/entries/002",
        "/tile/entries/001",
        "/tile/x/000",
    ]:
        response = reader_client.get(missing)
        assert response.status_code == 404, missing
        assert response.headers["content-type"] == "application/problem+json"
    raw = reader_client.get("/tile/entries/000", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in raw.headers
    zipped = reader_client.get("/tile/entries/000", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.content == raw.content  # the client decoded it
    assert zipped.headers["vary"] == "Accept-Encoding"
    assert len(parse_bundle(raw.content)) == TILE


def use_settings(app: FastAPI, **changes: LogAccess) -> None:
    settings: Settings = app.state.settings
    app.state.settings = settings.model_copy(update=changes)


def test_default_access_public_proofs_and_tiles_entries_need_a_token(
    client: TestClient, app: FastAPI, storage: SqlStorage, tokens: TokenFactory
) -> None:
    reconciler = tokens("reconciler")
    grow_to(storage, 3)
    public = [
        "/checkpoint",
        "/v1/log/checkpoint",
        "/tile/0/000.p/3",
        "/v1/log/proofs/inclusion?index=1&tree_size=3",
        "/v1/log/proofs/consistency?first=1&second=3",
        "/v1/log/proofs/bundle?index=2",
    ]
    entries = ["/tile/entries/000.p/3", "/v1/log/entries?start=0"]
    for url in public:
        assert client.get(url).status_code == 200, url
    for url in entries:
        response = client.get(url)
        assert response.status_code == 401, url
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert client.get(url, headers=reconciler).status_code == 200, url

    use_settings(app, log_entries_access=LogAccess.public)
    for url in entries:
        assert client.get(url).status_code == 200, url


def test_token_access_closes_proofs_and_tiles_but_not_the_checkpoint(
    client: TestClient, app: FastAPI, storage: SqlStorage, tokens: TokenFactory
) -> None:
    auditor = tokens("auditor")
    grow_to(storage, 3)
    use_settings(app, log_read_access=LogAccess.token)
    closed = [
        "/tile/0/000.p/3",
        "/v1/log/proofs/inclusion?index=1&tree_size=3",
        "/v1/log/proofs/consistency?first=1&second=3",
        "/v1/log/proofs/bundle?index=2",
    ]
    for url in closed:
        assert client.get(url).status_code == 401, url
        bad = client.get(url, headers={"Authorization": "Bearer a6l_nope_nope"})
        assert bad.status_code == 401, url
        assert client.get(url, headers=auditor).status_code == 200, url
    for url in ["/checkpoint", "/v1/log/checkpoint", "/v1/log/key"]:
        assert client.get(url).status_code == 200, url


def test_settings_read_the_access_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("A6LEDGER_LOG_READ_ACCESS", "token")
    monkeypatch.setenv("A6LEDGER_LOG_ENTRIES_ACCESS", "public")
    settings = Settings(_env_file=None)
    assert settings.log_read_access is LogAccess.token
    assert settings.log_entries_access is LogAccess.public
    monkeypatch.delenv("A6LEDGER_LOG_READ_ACCESS")
    monkeypatch.delenv("A6LEDGER_LOG_ENTRIES_ACCESS")
    defaults = Settings(_env_file=None)
    assert defaults.log_read_access is LogAccess.public
    assert defaults.log_entries_access is LogAccess.token
